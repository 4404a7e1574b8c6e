"""Making untrusted text inert in each output format.

Paths, titles, terms and reasons can come from documents and file names, which anyone who can put a
file in the scanned folder controls. Each renderer passes such text through the helpers here, so
that a name like ``<script>alert(1)</script>.docx`` or ``=HYPERLINK("http://x")`` stays text:

- :func:`clean` drops what no encoder can write (lone surrogates from undecodable file names);
- :func:`xml_text` also replaces the characters XML 1.0 forbids (JUnit, xlsx);
- :func:`one_line` turns control characters and line breaks into spaces (CSV, Markdown, SARIF);
- :func:`spreadsheet_text` neutralises formula injection (CSV, xlsx);
- :func:`md_text` and :func:`md_code` escape Markdown (no HTML, links, images, mentions);
- :func:`document_href` makes a path a link that reaches the real file and cannot name a scheme or
  a host, nor leave the scanned folder.
"""

from __future__ import annotations

import re

from gapscan.scanner.common.names import name_bytes, percent_encoded
from gapscan.scanner.common.text import clean_text

# XML 1.0 allows tab, LF, CR and these ranges; everything else (other C0 controls, U+FFFE/U+FFFF,
# lone surrogates) makes the document unparsable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029]+")
# A cell starting with one of these is read as a formula by Excel, LibreOffice or Google Sheets
# (tab and carriage return too, and the full-width forms some input methods produce).
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# Markdown: an ASCII punctuation character may be backslash-escaped and is then literal text.
# Escaped here: what could start emphasis, code, HTML, a link or image (the brackets), a table
# cell, strikethrough, an entity, math ($) or a heading; "://" and "www." so no autolink forms.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&$])")
_MD_AUTOLINK = re.compile(r"(:)(?=//)|(?<=www)(\.)", re.IGNORECASE)


def _escape_control(match: re.Match) -> str:
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 else "\ufffd" for c in match.group(0))


def xml_text(text: object) -> str:
    """Text that can stand in an XML document: forbidden characters are shown as ``\\xNN``."""
    return _NOT_XML.sub(_escape_control, clean_text(text))


def one_line(text: object) -> str:
    """Control characters and line breaks become single spaces."""
    return _CONTROL.sub(" ", clean_text(text)).strip()


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "\u2026"


def spreadsheet_text(text: object) -> str:
    """A cell value that a spreadsheet shows as text, never runs as a formula: values starting with
    ``=``, ``+``, ``-``, ``@``, tab or carriage return (after any leading spaces) get a leading
    apostrophe, as OWASP recommends for CSV injection."""
    value = clean_text(text)
    stripped = value.lstrip(" ")
    if value and (value[0] in _FORMULA_START or (stripped and stripped[0] in _FORMULA_START)):
        return "'" + value
    return value


def md_text(text: object, limit: int = 400) -> str:
    """Markdown that renders as exactly this text: punctuation is backslash-escaped (so no HTML,
    link, image, emphasis or table cell break can form), line breaks become spaces, and ``@`` is
    followed by a zero-width space so that no one is mentioned (notified) by a file name."""
    value = _MD_SPECIAL.sub(r"\\\1", truncate(one_line(text), limit))
    value = _MD_AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), value)
    return value.replace("@", "\\@\u200b")


def md_code(text: object, limit: int = 200, *, in_table: bool = True) -> str:
    """A Markdown code span showing this text (a path, an id). Inside a table the pipe is escaped,
    which GitHub- and GitLab-flavoured Markdown honour even in code spans, and a backslash is shown
    as U+29F5 (the table splitter would otherwise read ``\\|`` as a cell border, and the rest of
    the text would leave the code span)."""
    value = truncate(one_line(text), limit) or " "
    if in_table:
        value = value.replace("\\", "\u29f5")
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith("`") or value.endswith("`"):
        value = f" {value} "
    if in_table:
        value = value.replace("|", "\\|")
    return f"{fence}{value}{fence}"


def document_href(path: str, link_base: str = "") -> str:
    """The link to a document, the one every report uses (HTML, Markdown, SARIF): ``link_base``
    (a ``--link-base`` URL, or the way from the report's folder to the scanned one; "" for a link
    relative to the scanned root) plus the display path ``path`` as a relative URI reference.

    The URI holds the name's exact bytes (see ``name_bytes``), each segment percent-encoded: a
    backslash is ``%5C``, never a separator, and ``:``, ``#`` and ``?`` cannot change its meaning.
    Empty, ``.`` and ``..`` segments are dropped, so the path part can never become absolute or
    scheme-relative (``//host``) nor climb out of the folder ``link_base`` names.
    """
    segments = [s for s in name_bytes(path).split(b"/") if s not in (b"", b".", b"..")]
    return link_base + "/".join(percent_encoded(segment) for segment in segments)
