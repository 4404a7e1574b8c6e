"""Excel workbooks (.xlsx, .xlsm): cell values of every sheet, one section per sheet.

openpyxl reads the workbook's structure (sheets in order, the date styles, the 1900 or 1904
epoch); the shared strings and the cells, where nearly all the time goes, are read here to the
values openpyxl's read-only, data-only mode gives: numbers, dates, booleans, errors and text,
placed by column. Parts written the usual way are read by patterns (``plainxml``), the rest, and
what follows a row the patterns do not know, with lxml.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from functools import cache
from itertools import islice
from typing import IO
from xml.etree.ElementTree import ParseError

import openpyxl
from lxml import etree
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from gapscan.scanner.extract.guards import (
    Draft,
    Limits,
    Refused,
    Source,
    describe_error,
)
from gapscan.scanner.extract.opc import office_properties
from gapscan.scanner.extract.plainxml import PlainCell, plain_sheet, plain_strings, xml_text

_SI, _T, _R = (f"{{{SHEET_MAIN_NS}}}{name}" for name in ("si", "t", "r"))
_DIGITS = "0123456789"
_ROW, _VALUE, _INLINE = (f"{{{SHEET_MAIN_NS}}}{name}" for name in ("row", "v", "is"))
# A cell's value from its type, its value's text and its style.
_ValueReader = Callable[[str, "str | None", "str | None"], object]


def _no_declared_size(sheet: ReadOnlyWorksheet) -> None:
    """Opening a read-only sheet, openpyxl looks for its declared size, and parses the whole sheet
    when there is none (minutes for a million rows, before the first row is read). The size only
    pads rows to a rectangle, which text extraction does not need, and a hostile declared size
    (A1:XFD1048576) would pad an empty sheet with a million rows of 16,384 cells: ignore it."""


if hasattr(ReadOnlyWorksheet, "_get_size"):
    ReadOnlyWorksheet._get_size = _no_declared_size


def _iterparse(stream: IO[bytes], tag: str) -> Iterator[etree._Element]:
    """The ``tag`` elements of an XML part as each ends, each dropped once the caller is done with it
    (memory stays flat on a million rows). No entity is expanded and nothing is fetched; malformed
    XML raises ``ParseError``."""
    parser = etree.iterparse(
        stream, events=("end",), tag=tag, resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        for _, element in parser:
            yield element
            element.clear(keep_tail=True)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:  # reported as malformed XML, as openpyxl's parser's errors are
        raise ParseError(str(error)) from None


class _Reader(ExcelReader):
    """openpyxl's reader with the shared strings read by lxml (openpyxl builds an object per string)."""

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            strings = plain_strings(self.archive, part.PartName[1:])
            if strings is None:
                with self.archive.open(part.PartName[1:]) as stream:
                    strings = [_string(si) for si in _iterparse(stream, _SI)]
            self.shared_strings = [string.replace("x005F_", "") for string in strings]


def _string(element: etree._Element) -> str:
    """A string item's text as openpyxl has it: its own text (the last ``t`` child) and that of
    each rich-text run, phonetic hints left out."""
    plain = None
    runs: list[str] = []
    for child in element:
        if child.tag == _T:
            plain = child.text
        elif child.tag == _R:
            run = None
            for part in child:
                if part.tag == _T:
                    run = part.text
            if run is not None:
                runs.append(run)
    return "".join(runs) if plain is None else plain + "".join(runs)


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    reader = _Reader(source.stream(), read_only=True, data_only=True, keep_links=False)
    reader.read()
    workbook = reader.wb
    try:
        draft = Draft(limits.max_chars, "workbook")
        failed = 0
        for sheet in workbook.worksheets:
            if draft.full:
                break
            draft.start(f"sheet {sheet.title}", label=sheet.title)
            try:
                for row in _rows(workbook, sheet):
                    draft.add(" | ".join([_cell_text(value) for value in row if value is not None]))
                    if draft.full:
                        break
            except Exception as error:  # noqa: BLE001 - one damaged sheet must not lose the rest
                draft.warn(f"sheet {sheet.title}: {describe_error(error)}")
                failed += 1
        if failed and failed == len(workbook.worksheets):
            raise Refused(f"corrupt: no sheet could be read ({draft.warnings[0]})")
        draft.metadata = office_properties(source)
        return draft
    finally:
        workbook.close()  # read-only workbooks keep the zip open until closed


def _rows(workbook: openpyxl.Workbook, sheet: ReadOnlyWorksheet) -> Iterator[list[object]]:
    """The values of each row that has cells, in column order (a later cell in the same column
    replaces an earlier one, as in openpyxl)."""
    # openpyxl's own read-only sheets take these private attributes too; its stubs don't list them.
    typed = _value_reader(sheet._shared_strings, workbook)  # type: ignore[attr-defined]
    archive, part = workbook._archive, sheet._worksheet_path  # type: ignore[attr-defined]
    plain, done = plain_sheet(archive, part), 0
    if plain is not None:
        for number, cells in plain:
            _check_row_number(number)
            yield _placed(_plain_cells(cells, typed))
            done += 1
        if plain.complete:
            return
    with archive.open(part) as stream:  # from the first row that is not plain
        for row in islice(_iterparse(stream, _ROW), done, None):
            _check_row_number(row.get("r"))
            yield _placed(_cells(row, typed))


def _plain_cells(cells: list[PlainCell], typed: _ValueReader) -> list[tuple[int, object]]:
    """Each cell's column and value (an inline string's is its text)."""
    return [
        (_column_number(letters), (xml_text(inline) if opened else None) if kind == "inlineStr"
         else typed(kind or "n", value, style or None))
        for _, letters, style, kind, value, opened, inline in cells
    ]


def _cells(row: etree._Element, typed: _ValueReader) -> list[tuple[int, object]]:
    cells: list[tuple[int, object]] = []
    column = 0
    for cell in row:
        coordinate = cell.get("r")
        column = _column(coordinate) if coordinate else column + 1
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = _child(cell, _INLINE)
            cells.append((column, None if inline is None else _string(inline)))
        else:
            found = _child(cell, _VALUE)  # lxml's find() goes through Python: looping is quicker
            cells.append((column, typed(kind, None if found is None else found.text, cell.get("s"))))
    return cells


def _placed(cells: list[tuple[int, object]]) -> list[object]:
    """The values in column order, each column's last; a row is as wide as its last cell says,
    so a cell placed beyond it is not read."""
    if not cells:
        return []
    placed = dict(cells)
    width = cells[-1][0]
    columns = list(placed)
    if columns[0] >= 1 and columns[-1] == width and columns == sorted(columns):  # as nearly every row
        return list(placed.values())
    return [placed[key] for key in sorted(placed) if 1 <= key <= width]


_column_number = cache(column_index_from_string)


def _column(coordinate: str) -> int:
    """The column number of a cell reference ("AB12" is 28)."""
    letters = coordinate.rstrip(_DIGITS)
    if letters.isalpha() and letters.isascii() and letters != coordinate:
        return column_index_from_string(letters)
    return coordinate_to_tuple(coordinate)[1]  # an odd one: openpyxl says what it makes of it


def _check_row_number(number: str | None) -> None:
    """Refuse a row number that is not a whole number ("1.5"), as openpyxl does."""
    if number is None:
        return
    try:
        int(number)
    except ValueError:
        if not float(number).is_integer():
            raise ValueError(f"{number} is not a valid row number") from None


def _value_reader(strings: list[str], workbook: openpyxl.Workbook) -> _ValueReader:
    """A cell's value from its type, its value text and its style, as openpyxl has it."""
    epoch = workbook.epoch
    # openpyxl's own read-only sheets take these private attributes too; its stubs don't list them.
    date_styles = workbook._date_formats  # type: ignore[attr-defined]
    duration_styles = workbook._timedelta_formats  # type: ignore[attr-defined]

    def value(kind: str, text: str | None, style_text: str | None) -> object:  # noqa: PLR0911 - one return per type
        if not text:
            return None
        if kind == "s":
            return strings[int(text)]
        if kind == "n":
            number: float = float(text) if "." in text or "E" in text or "e" in text else int(text)
            style = int(style_text) if style_text else -1 if style_text == "" else 0  # s="" is no style
            if style not in date_styles:
                return number
            try:
                return from_excel(number, epoch, timedelta=style in duration_styles)
            except (OverflowError, ValueError):  # a serial past the last date Excel knows
                return "#VALUE!"
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text), "e" (an error such as #N/A)

    return value


def _child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child with this tag."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
