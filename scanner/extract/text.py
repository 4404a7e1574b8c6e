"""Plain text, Markdown and CSV/TSV files, and the robust decoding HTML shares."""

from __future__ import annotations

import codecs
import csv
import io
import re
from charset_normalizer import from_bytes

from gapscan.scanner.common.documents import Metadata
from gapscan.scanner.extract.guards import Draft, Limits, Refused, Source

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Up to 4 bytes per kept character, so a huge log file is not read whole to keep its head.
_BYTES_PER_CHAR = 4
# Control characters (other than tab, line breaks and form feed) that betray binary content.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.01


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    text, cut = read_text(source, limits)
    if fmt == "md":
        draft = _markdown(text, limits)
    elif fmt == "csv":
        draft = _table(text, source.name.lower().endswith(".tsv"), limits)
    else:
        draft = Draft(limits.max_chars, "text")
        draft.add(text)
    if cut:
        draft.full = True
    return draft


def read_text(source: Source, limits: Limits) -> tuple[str, bool]:
    """The decoded text of a file and whether it was cut short; refuses binary content."""
    budget = limits.max_chars * _BYTES_PER_CHAR
    cut = len(source.data) > budget
    return decode(source.data[:budget], partial=cut), cut


def decode(data: bytes, partial: bool = False) -> str:
    """Decode bytes of unknown encoding (BOMs, UTF-8, UTF-16, legacy code pages).

    ``partial`` means the bytes are the head of a longer file and may end mid-character.
    """
    text = _decode(data, partial)
    if text is None or len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise Refused("not a text file")
    return text


def _decode(data: bytes, partial: bool) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    if b"\x00" in data:
        return _utf16_without_bom(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if partial and error.reason == "unexpected end of data":
            return data[: error.start].decode("utf-8")
    best = from_bytes(data).best()
    return None if best is None else str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text of mostly Latin letters has a NUL in every other byte; binary data does not."""
    sample = data[:4096]
    half = max(len(sample) // 2, 1)
    for encoding, zeros in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if zeros.count(0) > 0.9 * half:
            return data.decode(encoding, errors="replace")
    return None


# --- Markdown --------------------------------------------------------------------------------

# Every pattern here runs in time linear in the line: no repetition can scan past the character
# that would end its construct (a line of 130 KB of "![" or "<a" costs no more than one of text).
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*)|[ \t]*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_TABLE_RULE = re.compile(r"^[\s|:-]+$")
_INLINE = (
    (re.compile(r"!\[([^\[\]]*)\]\([^()]*\)"), r"\1"),  # image -> its alt text
    (re.compile(r"\[([^\[\]]+)\]\([^()]*\)"), r"\1"),  # link -> its text
    (re.compile(r"(?<!\\)</?[A-Za-z][^<>]*>"), " "),  # inline HTML tags
    (re.compile(r"(\*\*|__|`)"), ""),
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),  # backslash escapes: \< is a literal <
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRONT_MATTER_KEYS = {
    "title": "title",
    "author": "author",
    "authors": "author",
    "created": "created",
    "date": "modified",
    "modified": "modified",
    "updated": "modified",
    "last_modified": "modified",
    "lastmod": "modified",
}


def _markdown(text: str, limits: Limits) -> Draft:
    draft = Draft(limits.max_chars, "start")
    fields, lines = _front_matter(text.splitlines())
    title = fields.pop("title", "")
    in_fence = False
    pending = ""  # held back one line: an underline may make it a (setext) heading
    for line in lines:
        if draft.full:
            break
        heading = ""
        body = line  # what the line adds to the text: nothing for a fence or a heading's markup
        if _FENCE.match(line):
            in_fence = not in_fence
            body = ""
        elif in_fence:
            pass
        elif atx := _ATX.match(line):
            heading = _clean(_without_closing_hashes(atx.group(2) or ""))
            if len(atx.group(1) or "") == 1:
                title = title or heading
            body = ""
        elif pending and _SETEXT.match(line):
            heading, pending, body = pending, "", ""
        draft.add(pending)
        if heading:
            draft.start(heading, heading)
        pending = "" if _TABLE_RULE.match(body) else body if in_fence else _clean(body)
    draft.add(pending)
    draft.metadata = Metadata.of({**fields, "title": title})
    return draft


def _front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Simple ``key: value`` fields of a YAML front matter block, and the lines after it."""
    if not lines or lines[0].strip() != "---":
        return {}, lines
    end = next((number for number, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "...")), None)
    if end is None:
        return {}, lines
    fields: dict[str, str] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        field = _FRONT_MATTER_KEYS.get(key.strip().lower())
        value = value.strip().strip("'\"")
        if field in ("created", "modified") and not _ISO_DATE.match(value):
            continue
        if sep and field and value and field not in fields:
            fields[field] = value
    return fields, lines[end + 1 :]


def _without_closing_hashes(text: str) -> str:
    """An ATX heading's text without its optional closing sequence ("## Scope ##")."""
    text = text.rstrip(" \t")
    bare = text.rstrip("#")
    return bare.rstrip(" \t") if not bare or bare[-1] in " \t" else text


def _without_comments(line: str) -> str:
    """A line without its complete HTML comments (found with ``str.find``: linear)."""
    kept, start = [], 0
    while (opening := line.find("<!--", start)) >= 0 and (closing := line.find("-->", opening + 4)) >= 0:
        kept.append(line[start:opening])
        start = closing + 3
    kept.append(line[start:])
    return "".join(kept)


def _clean(line: str) -> str:
    line = _without_comments(line)
    for pattern, replacement in _INLINE:
        line = pattern.sub(replacement, line)
    return line.replace("|", " | ").strip(" |")


# --- CSV / TSV -------------------------------------------------------------------------------


def _table(text: str, tabs: bool, limits: Limits) -> Draft:
    draft = Draft(limits.max_chars, "table")
    delimiter = "\t" if tabs else _sniff_delimiter(text)
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            draft.add(" | ".join(cell.strip() for cell in row if cell.strip()))
            if draft.full:
                break
    except csv.Error as error:
        draft = Draft(limits.max_chars, "table")
        draft.warn(f"not parsed as a table ({error}); kept as plain text")
        draft.add(text)
    return draft


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
