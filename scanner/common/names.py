"""How file names and document text are shown in every output: unambiguous, and unable to
reorder or break what surrounds them.

A file name becomes its *display path* (:func:`display_path`), which every report, warning and
log line uses; :func:`name_bytes` turns it back into the name's exact bytes, for links and URIs
that must reach the real file (``reports.inert.document_href``). Text from inside documents
(titles, headings, reasons quoting a zip member) goes through :func:`visible_text`.

Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) are never passed through: a
name such as ``invoice\\u202efdp.exe`` would otherwise show as ``invoiceexe.pdf``, and an
unbalanced override in a title reverses the rest of a table row.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Bidirectional formatting characters (Unicode UAX #9): marks, embeddings, overrides, isolates.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Characters a display path shows escaped: C0 and C1 controls (a newline or an ANSI escape would
# break lines and tables, or drive a terminal), line and paragraph separators, bidirectional
# controls, lone surrogates (bytes that were not UTF-8), and the backslash that escapes them all.
_UNSHOWABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff\\\\]")
_ESCAPED = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
_ESCAPE = re.compile(rb"\\(\\|x[0-9a-f]{2})")
_BIDI_TEXT = re.compile(f"[{_BIDI}]")


def display_path(path: str) -> str:
    """A path as every output shows it. Most paths are returned unchanged. A name holding a
    backslash, a control character, a bidirectional control, or bytes that are not UTF-8 (Python
    holds those as lone surrogates, which no UTF-8 writer accepts) is shown with every backslash
    doubled and each such character or byte as ``\\xNN`` (the bytes of its UTF-8 encoding), so that
    two different names never look alike and :func:`name_bytes` recovers the exact bytes."""
    if not _UNSHOWABLE.search(path):
        return path
    raw = path.encode("utf-8", "surrogateescape").replace(b"\\", b"\\\\")
    shown = raw.decode("utf-8", "backslashreplace")  # undecodable bytes -> \xNN
    return _ESCAPED.sub(lambda match: "".join(map("\\x{:02x}".format, match.group(0).encode())), shown)


def name_bytes(shown: str) -> bytes:
    """The exact bytes of the name behind a display path (the inverse of :func:`display_path`)."""
    return _ESCAPE.sub(_unescape, shown.encode("utf-8", "surrogateescape"))


def _unescape(match: re.Match[bytes]) -> bytes:
    escape = match.group(1)
    return b"\\" if escape == b"\\" else bytes([int(escape[1:], 16)])


def percent_encoded(name: str | bytes, safe: str = "") -> str:
    """A name (or path) as it stands in a URI: its exact bytes percent-encoded, except the
    characters in ``safe``. A ``str`` stands for the bytes of its UTF-8 encoding, lone surrogates
    for the bytes of a name that was not UTF-8 (as ``os.fsencode`` does on POSIX)."""
    raw = name if isinstance(name, bytes) else name.encode("utf-8", "surrogateescape")
    return quote(raw, safe=safe)


def visible_text(text: str) -> str:
    """Text from a document with its bidirectional controls written out as ``<U+202E>``."""
    return _BIDI_TEXT.sub(lambda match: f"<U+{ord(match.group(0)):04X}>", text)
