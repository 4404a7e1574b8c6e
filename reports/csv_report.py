"""``report.csv``: one row per requirement per framework (RFC 4180, UTF-8, header row).

Columns: framework, requirement, title, parent, status, reason, evidence (paths, ``; ``-separated),
evidence_dates (same order), best_score, near_misses, waiver. Every text cell is neutralised
against formula injection (see :func:`gapscan.reports.inert.spreadsheet_text`), and control
characters become spaces, so a file name cannot run a formula or break a row.
"""

from __future__ import annotations

import csv
import io

from gapscan.reports.gate import Publication
from gapscan.reports.inert import one_line, spreadsheet_text
from gapscan.reports.model import GapReport

COLUMNS = (
    "framework",
    "requirement",
    "title",
    "parent",
    "status",
    "reason",
    "evidence",
    "evidence_dates",
    "best_score",
    "near_misses",
    "waiver",
)


def register_rows(report: GapReport, publication: Publication | None = None) -> list[dict[str, object]]:
    """The gap register as plain values (shared with the xlsx renderer): one dict per requirement."""
    publication = publication or Publication()
    rows: list[dict[str, object]] = []
    for framework in report.frameworks:
        for verdict in framework.verdicts:
            waiver = publication.waiver_for(framework.id, verdict.id)
            rows.append(
                {
                    "framework": framework.id,
                    "requirement": verdict.id,
                    "title": verdict.title,
                    "parent": verdict.parent,
                    "status": verdict.status,
                    "reason": verdict.reason,
                    "evidence": [e.path for e in verdict.evidence],
                    "evidence_dates": [e.modified for e in verdict.evidence],
                    "best_score": max((e.score for e in verdict.evidence), default=None),
                    "near_misses": [f"{n.path} ({n.score:.2f})" for n in verdict.near_misses],
                    "waiver": waiver.label() if waiver else "",
                }
            )
    return rows


def render_csv(report: GapReport, publication: Publication | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in register_rows(report, publication):
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        value = "; ".join(one_line(v) for v in value)
    return spreadsheet_text(one_line(value))
