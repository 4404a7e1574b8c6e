"""``report.xlsx``: the gap register for quality managers, built with openpyxl.

Sheets: ``Summary`` (coverage per framework and the scan's facts), ``Action plan`` (every gap once,
in the order to work on it, with what it also closes), one per framework (requirement,
title, group, status, reason, evidence paths, evidence dates, latest evidence date, best score,
near misses, waiver), ``Documents`` (every document found) and ``Unreadable`` (those that could not
be read, with the reason). Every sheet has a frozen header row, an autofilter and column widths
fitted to the content; status cells are coloured (and say their status in words, so colour is never
the only signal).

Text from documents and file names is stored as text, never as a formula: values a spreadsheet
would run (``=``, ``+``, ``-``, ``@``, tab, CR) get a leading apostrophe, and characters XML cannot
carry are shown as ``\\xNN``.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gapscan.reports.actions import action_plan
from gapscan.reports.gate import Publication
from gapscan.reports.csv_report import register_rows
from gapscan.reports.inert import spreadsheet_text, truncate, xml_text
from gapscan.reports.model import GapReport
from gapscan.scanner.common.clock import parse_timestamp

# Fill (background) and font colour per status; the same palette as the HTML report.
STATUS_FILLS = {
    "covered": "E4F2E5",
    "partial": "FFF2CC",
    "missing": "FDE8E8",
    "not_applicable": "ECEFF3",
    "ok": "E4F2E5",
    "unreadable": "FDE8E8",
    "skipped": "FFF2CC",
}
STATUS_FONTS = {
    "covered": "1B5E20",
    "partial": "6B4A00",
    "missing": "9B1C1C",
    "not_applicable": "46505D",
    "ok": "1B5E20",
    "unreadable": "9B1C1C",
    "skipped": "6B4A00",
}
HEADER_FILL = "1F4E8C"
_MAX_CELL = 32_000  # Excel's limit is 32,767 characters per cell
_WIDTH_MIN, _WIDTH_MAX = 8, 70
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\']")

FRAMEWORK_COLUMNS = (
    ("Requirement", "requirement"),
    ("Title", "title"),
    ("Group", "parent"),
    ("Status", "status"),
    ("Reason", "reason"),
    ("Evidence", "evidence"),
    ("Evidence dated", "evidence_dates"),
    ("Latest evidence", "latest"),
    ("Best score", "best_score"),
    ("Near misses", "near_misses"),
    ("Waiver", "waiver"),
)
_WRAPPED = {"Title", "Reason", "Evidence", "Evidence dated", "Near misses", "Waiver", "Path", "Document", "Tags",
            "What to do", "An auditor expects", "Also closes"}
ACTION_COLUMNS = ("Rank", "Framework", "Requirement", "Title", "Status", "What to do", "An auditor expects",
                  "Start from", "Start score", "Also closes")


def render_xlsx(report: GapReport, publication: Publication | None = None) -> bytes:
    publication = publication or Publication()
    workbook = Workbook()
    summary = workbook.active
    assert isinstance(summary, Worksheet)  # a new workbook opens on its one worksheet
    summary.title = "Summary"
    names = {"summary", "history"}  # Excel reserves "History"
    _summary_sheet(summary, report, publication)
    _action_sheet(workbook.create_sheet(_sheet_name("Action plan", names)), report)

    rows = register_rows(report, publication)
    for framework in report.frameworks:
        sheet = workbook.create_sheet(_sheet_name(framework.id, names))
        header = [label for label, _ in FRAMEWORK_COLUMNS]
        body = []
        for row in rows:
            if row["framework"] != framework.id:
                continue
            evidence_dates = cast("list[str]", row["evidence_dates"])  # one per evidence document, "" if undated
            dates = [d for d in evidence_dates if d]
            shown = dict(
                row,
                evidence_dates=[d or "undated" for d in evidence_dates],
                latest=_as_date(max(dates)) if dates else None,
            )
            body.append([_joined(value) if isinstance(value := shown[key], list) else value
                         for _, key in FRAMEWORK_COLUMNS])
        _table(sheet, header, body, status_column="Status")

    documents = workbook.create_sheet(_sheet_name("Documents", names))
    _table(
        documents,
        ["Path", "Title", "Format", "Bytes", "Modified", "Status", "Reason", "Kind", "Kind judged by", "SHA-256",
         "Tags"],
        [
            [d.path, d.title, d.format, d.bytes, _as_date(d.modified), d.status, d.reason or "", d.kind,
             _joined(list(d.kind_signals)), d.sha256,
             _joined([f"{t.framework} {t.requirement} ({t.score:.2f})" for t in d.tags])]
            for d in sorted(report.documents, key=lambda d: d.path)
        ],
        status_column="Status",
    )
    unreadable = workbook.create_sheet(_sheet_name("Unreadable", names))
    _table(
        unreadable,
        ["Path", "Format", "Bytes", "Status", "Reason"],
        [[d.path, d.format, d.bytes, d.status, d.reason or ""] for d in report.documents if d.status != "ok"],
        status_column="Status",
    )
    workbook.properties.creator = "gapscan"
    workbook.properties.title = truncate(xml_text(f"Evidence gaps: {report.root}"), 200)
    stamp = _as_datetime(report.generated_at)
    if stamp is not None:
        workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _summary_sheet(sheet: Worksheet, report: GapReport, publication: Publication) -> None:
    header = ["Framework", "Title", "Level", "Coverage", "Covered", "Partial", "Missing", "Not applicable", "Waived"]
    body = []
    for framework in report.frameworks:
        counts = framework.counts
        waived = sum(1 for v in framework.verdicts if publication.waiver_for(framework.id, v.id))
        body.append([framework.id, framework.title, framework.level, framework.coverage, counts["covered"],
                     counts["partial"], counts["missing"], counts["not_applicable"], waived])
    _table(sheet, header, body)
    for row in range(2, len(body) + 2):
        sheet.cell(row=row, column=4).number_format = "0%"
    facts = [
        ("Scanned root", report.root),
        ("Generated", report.generated_at),
        ("gapscan", report.tool_version),
        ("Documents", report.summary["documents"]),
        ("Read", report.summary["readable"]),
        ("Not read", report.summary["unreadable"]),
    ]
    if report.language_warning:
        facts.insert(0, ("Warning", report.language_warning))
    start = len(body) + 3
    for offset, (label, value) in enumerate(facts):
        sheet.cell(row=start + offset, column=1, value=label).font = Font(bold=True)
        _set(sheet.cell(row=start + offset, column=2), value)


def _action_sheet(sheet: Worksheet, report: GapReport) -> None:
    body = []
    for action in action_plan(report):
        start = action.start_from
        body.append([
            action.rank, action.framework, action.requirement, action.title, action.status, action.step,
            action.expected, start.path if start else "", start.score if start else None,
            _joined([f"{gap.framework} {gap.requirement} ({gap.status})" for gap in action.closes[1:]]),
        ])
    _table(sheet, list(ACTION_COLUMNS), body, status_column="Status")


def _table(sheet: Worksheet, header: list[str], body: list[list], status_column: str | None = None) -> None:
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for column, label in enumerate(header, 1):
        head = sheet.cell(row=1, column=column, value=label)
        head.font, head.fill = bold, fill
        head.alignment = Alignment(vertical="center")
    status_index = header.index(status_column) + 1 if status_column else None
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for row_number, values in enumerate(body, 2):
        for column, value in enumerate(values, 1):
            cell = sheet.cell(row=row_number, column=column)
            _set(cell, value)
            cell.alignment = wrap if header[column - 1] in _WRAPPED else top
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, float) and header[column - 1] in ("Best score", "Start score"):
                cell.number_format = "0.00"
        if status_index is not None:
            cell = sheet.cell(row=row_number, column=status_index)
            status = str(values[status_index - 1])
            if status in STATUS_FILLS:
                cell.fill = PatternFill("solid", fgColor=STATUS_FILLS[status])
                cell.font = Font(bold=True, color=STATUS_FONTS[status])
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(header))
    sheet.auto_filter.ref = f"A1:{last}{max(len(body) + 1, 1)}"
    _fit_columns(sheet, header, body)


def _set(cell, value: object) -> None:
    """Numbers and dates as themselves; everything else as inert text (never a formula)."""
    if value is None:
        cell.value = None
    elif isinstance(value, bool):
        cell.value = str(value)
        cell.data_type = "s"
    elif isinstance(value, (int, float, date, datetime)):
        cell.value = value
    else:
        cell.value = truncate(spreadsheet_text(xml_text(value)), _MAX_CELL)
        cell.data_type = "s"  # openpyxl would otherwise store a leading "=" as a formula


def _fit_columns(sheet: Worksheet, header: list[str], body: list[list]) -> None:
    for column, label in enumerate(header, 1):
        longest = len(label) + 4  # room for the autofilter button
        for values in body[:2000]:
            value = values[column - 1]
            if value is None:
                continue
            text = value.isoformat() if isinstance(value, date) else str(value)
            longest = max(longest, max((len(line) for line in text.split("\n")), default=0))
        sheet.column_dimensions[get_column_letter(column)].width = min(max(longest + 2, _WIDTH_MIN), _WIDTH_MAX)


def _joined(values: list) -> str:
    return "\n".join(str(v) for v in values if v not in (None, ""))


def _sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\ or quotes."""
    base = _SHEET_NAME_BAD.sub("_", xml_text(name)).strip() or "Sheet"
    base = base[:31]
    candidate, number = base, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(candidate.lower())
    return candidate


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _as_datetime(value: str) -> datetime | None:
    moment = parse_timestamp(value)
    return None if moment is None else moment.replace(tzinfo=None)
