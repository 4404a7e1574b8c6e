"""Excel workbooks (.xlsx, .xlsm): cell values of every sheet, one section per sheet."""

from __future__ import annotations

from datetime import date, datetime, time

import openpyxl
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from gapscan.scanner.extract.guards import (
    Draft,
    Limits,
    Refused,
    Source,
    describe_error,
    office_properties,
)


def _no_declared_size(sheet: ReadOnlyWorksheet) -> None:
    """Opening a read-only sheet, openpyxl looks for its declared size, and parses the whole sheet
    when there is none (minutes for a million rows, before the first row is read). The size only
    pads rows to a rectangle, which text extraction does not need, and a hostile declared size
    (A1:XFD1048576) would pad an empty sheet with a million rows of 16,384 cells: ignore it."""


if hasattr(ReadOnlyWorksheet, "_get_size"):
    ReadOnlyWorksheet._get_size = _no_declared_size


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    workbook = openpyxl.load_workbook(source.stream(), read_only=True, data_only=True, keep_links=False)
    try:
        draft = Draft(limits.max_chars, "workbook")
        failed = 0
        for sheet in workbook.worksheets:
            if draft.full:
                break
            draft.start(f"sheet {sheet.title}", label=sheet.title)
            try:
                for row in sheet.iter_rows(values_only=True):
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


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()

