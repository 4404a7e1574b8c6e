"""Plain spreadsheet parts read by patterns instead of a tree walk (issue 14).

Excel, LibreOffice, openpyxl and XlsxWriter write a workbook's shared strings and worksheets the
same way: strings of one text each; rows of cells that each hold a reference, a style, a type and
one value, perhaps with a formula. For such a part, a few regular expressions find the strings, rows
and cells several times as fast as visiting each element from Python. A part is read this way only
where nothing in it could make the patterns read something else than an XML parser would:

- lxml has checked that the whole part is well-formed XML (in C, keeping nothing), with the options
  of the streaming reader. A part it rejects goes to that reader, which fails at the same place.
- The part is UTF-8 and holds no comment, CDATA section, processing instruction or document type.
  Its root's default namespace is the spreadsheet's, and no element around the strings or rows
  sets another, so every element there without a prefix is a spreadsheet element.
- The patterns cover every string or every row's cells exactly, with no attribute they do not
  know, and no row is elsewhere.

Anything else is read by the streaming reader: both give the same values (tests compare them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from operator import itemgetter
from zipfile import ZipFile

from lxml import etree
from openpyxl.xml.constants import SHEET_MAIN_NS

# Larger parts are streamed: a part is held here twice, as bytes and as text.
PLAIN_PART_LIMIT = 8 * 1024 * 1024

_DECLARATION = re.compile(r"""<\?xml\s+version=(["'])1\.0\1(?:\s+encoding=(["'])(?i:utf-8)\2)?"""
                          r"""(?:\s+standalone=(["'])(?:yes|no)\3)?\s*\?>""")
_DEFAULT_NAMESPACE = re.compile(rf'\sxmlns\s*=\s*(["\']){re.escape(SHEET_MAIN_NS)}\1')
_DEFAULT_DECLARATION = re.compile(r"\sxmlns\s*=")
_ROOTS = {name: re.compile(rf"\s*<{name}(\s[^<>]*)?>\s*") for name in ("sst", "worksheet")}
_MARKUP = itemgetter(0)  # each pattern's first group is all it matched

_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+);|#([0-9]+);|(lt|gt|amp|quot|apos);)")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}

# A shared string of one text, with the whitespace after it (see _CELL).
_TEXT = r'(?:<t(?:\s+xml:space="preserve")?>([^<]*)</t>|<t\s*/>)'
_STRING = re.compile(rf"(<si>\s*{_TEXT}\s*</si>\s*)")

# A row element anywhere, with or without a prefix (not rowBreaks).
_ANY_ROW = re.compile(r"[<:]row[\s/>]")
_ROW_START = re.compile(r"""\s*<row((?:\s+[\w:.-]+="[^"<&\t\n\r]*")*)\s*(/?)>\s*""")
_ROW_NUMBER = re.compile(r'\sr="([^"]*)"')
# A plain cell, with the whitespace after it: a row's cells are plain where these cover them
# (the whitespace before the first is the row's start tag's). Its value is a v element's text or
# an inline string of one text (the is element marked apart: an inline string cell without one
# has no value, with an empty one an empty text). No pattern that finds its matches in a longer
# text starts with whitespace: tried at each character of a long run of spaces, it would cost
# time in the square of the run's length.
_CELL = re.compile(
    r'(<c r="([A-Z]{1,3})[0-9]+"(?:\s+s="([0-9]+)")?(?:\s+t="([a-zA-Z]+)")?\s*'
    r"(?:/>|>\s*(?:<f(?:\s[^<>]*)?(?:/>|>[^<]*</f>)\s*)?"
    rf"(?:<v>([^<&]*)</v>\s*|(<is>)\s*{_TEXT}\s*</is>\s*)?</c>)\s*)"
)
_ROWS_END = re.compile(r"\s*</sheetData>")


def plain_strings(archive: ZipFile, name: str) -> list[str] | None:
    """The shared strings part's strings if each is one plain text, else None."""
    found = _plain_text(archive, name, "sst")
    if found is None:
        return None
    text, start = found
    end = text.rfind("</sst>")
    if end < 0:
        return None
    strings = _STRING.findall(text, start, end)
    if sum(map(len, map(_MARKUP, strings))) != end - start:
        return None
    return [xml_text(string) for _, string in strings]


# A cell's markup, column letters, style, type, value text, and its inline string's "<is>" and text
# as written; "" for each it has not.
PlainCell = tuple[str, str, str, str, str, str, str]
# A row's r attribute as written (None without one), and its cells.
PlainRow = tuple[str | None, list[PlainCell]]


class PlainSheet:
    """A plain worksheet part's rows, read up to the first one that is not plain. ``complete`` then
    says whether that was the end of the part's rows."""

    def __init__(self, text: str, start: int) -> None:
        self._text = text
        self._start = start  # where the rows begin, -1 for a part without sheetData
        self.complete = False

    def __iter__(self) -> Iterator[PlainRow]:
        text, position = self._text, self._start
        if position < 0:
            self.complete = not _ANY_ROW.search(text)
            return
        while row := _ROW_START.match(text, position):
            number = _ROW_NUMBER.search(row.group(1))
            position = row.end()
            cells = []
            if not row.group(2):
                end = text.find("</row>", position)
                if end < 0:
                    return
                cells = _CELL.findall(text, position, end)
                if sum(map(len, map(_MARKUP, cells))) != end - position:
                    return
                position = end + len("</row>")
            yield number.group(1) if number else None, cells
        rows_end = _ROWS_END.match(text, position)
        self.complete = rows_end is not None and not _ANY_ROW.search(text, rows_end.end())


def plain_sheet(archive: ZipFile, name: str) -> PlainSheet | None:
    """The worksheet part's rows if it can be plain, else None (read it with the streaming reader)."""
    found = _plain_text(archive, name, "worksheet")
    if found is None:
        return None
    text, root_end = found
    start = text.find("<sheetData>", root_end)
    if start < 0:
        return PlainSheet(text, -1)
    # sheetData may have ancestors other than the root: none may set a default namespace.
    if _DEFAULT_DECLARATION.search(text, root_end, start) or _ANY_ROW.search(text, 0, start):
        return None
    return PlainSheet(text, start + len("<sheetData>"))


def _plain_text(archive: ZipFile, name: str, root_name: str) -> tuple[str, int] | None:
    """The part's text and where its root's start tag ends, where it meets the conditions above."""
    info = archive.getinfo(name)
    if info.file_size > PLAIN_PART_LIMIT:
        return None
    with archive.open(info) as stream:
        data = stream.read(PLAIN_PART_LIMIT + 1)
    if len(data) > PLAIN_PART_LIMIT or not _well_formed(data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    declaration = _DECLARATION.match(text)
    root = _ROOTS[root_name].match(text, declaration.end() if declaration else 0)
    if root is None or not _DEFAULT_NAMESPACE.search(root.group(0)) or "<!" in text or text.find("<?", 1) >= 0:
        return None
    return text, root.end()


class _Discard:
    """An lxml parser target that keeps nothing: the parse only checks the XML."""

    def close(self) -> None:
        return None


def _well_formed(data: bytes) -> bool:
    # The stubs type a target as having every callback; lxml calls only those it has.
    parser = etree.XMLParser(target=_Discard(), resolve_entities=False, no_network=True,  # type: ignore[call-overload]
                             huge_tree=False, load_dtd=False)
    try:
        parser.feed(data)
        parser.close()
    except etree.XMLSyntaxError:
        return False
    return True


def xml_text(text: str) -> str:
    """Character data as an XML parser gives it: line ends as line feeds, references resolved."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _REFERENCE.sub(_referenced, text) if "&" in text else text


def _referenced(reference: re.Match[str]) -> str:
    hexadecimal, decimal, name = reference.groups()
    if name:
        return _ENTITIES[name]
    return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))
