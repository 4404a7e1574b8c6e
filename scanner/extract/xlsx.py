"""Excel workbooks (.xlsx, .xlsm): cell values of every sheet, one section per sheet.

openpyxl reads the workbook's structure (sheets in order, the date styles, the 1900 or 1904
epoch); the shared strings and the cells, where nearly all the time goes, are read here with
lxml, to the values openpyxl's read-only, data-only mode gives: numbers, dates, booleans, errors
and text, placed by column.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
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
    office_properties,
)

_SI, _T, _R = (f"{{{SHEET_MAIN_NS}}}{name}" for name in ("si", "t", "r"))
_DIGITS = "0123456789"
_ROW, _VALUE, _INLINE = (f"{{{SHEET_MAIN_NS}}}{name}" for name in ("row", "v", "is"))


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
            with self.archive.open(part.PartName[1:]) as stream:
                self.shared_strings = [_string(si).replace("x005F_", "") for si in _iterparse(stream, _SI)]


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
                    draft.add(" | ".join(_cell_text(value) for value in row if value is not None))
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
    strings = sheet._shared_strings  # type: ignore[attr-defined]
    epoch = workbook.epoch
    date_styles = workbook._date_formats  # type: ignore[attr-defined]
    duration_styles = workbook._timedelta_formats  # type: ignore[attr-defined]
    with workbook._archive.open(sheet._worksheet_path) as stream:  # type: ignore[attr-defined]
        for row in _iterparse(stream, _ROW):
            _check_row_number(row.get("r"))
            placed: dict[int, object] = {}
            column = 0
            for cell in row:
                coordinate = cell.get("r")
                column = _column(coordinate) if coordinate else column + 1
                placed[column] = _value(cell, strings, epoch, date_styles, duration_styles)
            # A row is as wide as its last cell says: a cell placed beyond it is not read.
            yield [placed[key] for key in sorted(placed) if 1 <= key <= column]


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


def _value(  # noqa: PLR0911 - one return per cell type, as the file format lists them
    cell: etree._Element, strings: list[str], epoch: datetime, date_styles: set, duration_styles: set
) -> object:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = _child(cell, _INLINE)
        return None if inline is None else _string(inline)
    found = _child(cell, _VALUE)  # lxml's find() goes through Python: looping is quicker
    value = found.text if found is not None else None
    if not value:
        return None
    if kind == "n":
        number: float = float(value) if "." in value or "E" in value or "e" in value else int(value)
        style_text = cell.get("s")
        style = int(style_text) if style_text else -1 if style_text == "" else 0  # s="" is no style
        if style not in date_styles:
            return number
        try:
            return from_excel(number, epoch, timedelta=style in duration_styles)
        except (OverflowError, ValueError):  # a serial past the last date Excel knows
            return "#VALUE!"
    if kind == "s":
        return strings[int(value)]
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        return from_ISO8601(value)
    return value  # "str" (a formula's text), "e" (an error such as #N/A)


def _child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child with this tag."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
