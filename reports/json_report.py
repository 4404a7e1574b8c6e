"""``report.json``, schema ``gapscan.report/2`` (documented in docs/report-json.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from gapscan.reports.actions import Action, action_plan
from gapscan.reports.gate import Publication, StatusChange, Waiver, gate_failures
from gapscan.reports.model import DocumentEntry, GapReport

SCHEMA = "gapscan.report/2"


def report_dict(report: GapReport, publication: Publication | None = None, *, documents: bool = True) -> dict:
    """The report as JSON data; without its documents (the last key) when not ``documents``."""
    publication = publication or Publication()
    data = {
        "schema": SCHEMA,
        "tool": {"name": "gapscan", "version": report.tool_version},
        "generated_at": report.generated_at,
        "root": report.root,
        "summary": {**report.summary, "not_read": report.not_read.as_dict()},
        "frameworks": [
            {
                "id": framework.id,
                "title": framework.title,
                "version": framework.version,
                "coverage": framework.coverage,
                "counts": framework.counts,
                "not_assessed": dict(framework.not_assessed),
                "requirements": [
                    {
                        "id": verdict.id,
                        "title": verdict.title,
                        "parent": verdict.parent,
                        "status": verdict.status,
                        "reason": verdict.reason,
                        "evidence": [
                            {
                                "path": e.path,
                                "score": e.score,
                                "locator": e.locator,
                                "modified": e.modified,
                                "terms": list(e.terms),
                            }
                            for e in verdict.evidence
                        ],
                        "near_misses": [{"path": n.path, "score": n.score} for n in verdict.near_misses],
                    }
                    for verdict in framework.verdicts
                ],
            }
            for framework in report.frameworks
        ],
        "actions": [_action(action) for action in action_plan(report)],
        "gate": _gate(report, publication) if publication.gated else None,
    }
    if documents:
        data["documents"] = [_document(document) for document in report.documents]
    return data


def _document(document: DocumentEntry) -> dict:
    return {
        "path": document.path,
        "format": document.format,
        "bytes": document.bytes,
        "sha256": document.sha256,
        "modified": document.modified,
        "status": document.status,
        "reason": document.reason,
        "kind": document.kind or None,
        "language": document.language,
        "assessed": document.assessed,
        "tags": [{"framework": t.framework, "requirement": t.requirement, "score": t.score} for t in document.tags],
    }


def _action(action: Action) -> dict:
    start = action.start_from
    return {
        "rank": action.rank,
        "framework": action.framework,
        "requirement": action.requirement,
        "title": action.title,
        "status": action.status,
        "needs": action.needs,
        "step": action.step,
        "expected": action.expected,
        "start_from": {"path": start.path, "score": start.score, "why": start.why} if start else None,
        "closes": [
            {"framework": gap.framework, "requirement": gap.requirement, "title": gap.title, "status": gap.status}
            for gap in action.closes
        ],
    }


def _gate(report: GapReport, publication: Publication) -> dict:
    failures = gate_failures(report, publication)
    diff = publication.diff
    review = publication.waivers
    baseline = None
    if diff is not None:
        baseline = {
            "source": diff.source,
            "generated_at": diff.generated_at,
            "coverage": dict(diff.coverage_before),
            "new_gaps": [_change(c, publication) for c in diff.new_gaps],
            "resolved": [_change(c, publication) for c in diff.resolved],
            "improved": [_change(c, publication) for c in diff.improved],
            "less_evidence": [
                {"framework": loss.framework, "requirement": loss.requirement, "title": loss.title,
                 "status": loss.status, "lost": list(loss.lost), "remaining": loss.remaining}
                for loss in diff.shrunk
            ],
            "documents_gone": list(diff.disappeared),
            "notes": list(diff.notes),
        }
    return {
        "passed": not failures,
        "failures": failures,
        "options": {"fail_on": publication.fail_on, "fail_under": publication.fail_under,
                    "strict": publication.strict, "partial_ok": publication.partial_ok},
        "baseline": baseline,
        "waivers": {
            "applied": [dict(_waiver(waiver), requirement=rid, waived_by=waiver.requirement)
                        for _, rid, waiver in review.applied],
            "expired": [_waiver(waiver) for waiver in review.expired],
            "unused": [_waiver(waiver) for waiver in review.unused],
        },
    }


def _change(change: StatusChange, publication: Publication) -> dict:
    return {"framework": change.framework, "requirement": change.requirement, "title": change.title,
            "before": change.before, "after": change.after,
            "waived": publication.waiver_for(change.framework, change.requirement) is not None}


def _waiver(waiver: Waiver) -> dict:
    return {"framework": waiver.framework, "requirement": waiver.requirement, "reason": waiver.reason,
            "expires": waiver.expires.isoformat()}


_ONE_LINE = json.JSONEncoder(ensure_ascii=False).encode
_INDENTED = json.JSONEncoder(ensure_ascii=False, indent=2)


def render_json(report: GapReport, publication: Publication | None = None) -> str:
    return "".join(json_pieces(report, publication))


def json_pieces(report: GapReport, publication: Publication | None = None) -> Iterator[str]:
    """The report indented by two spaces, each document on a line of its own (a report lists
    thousands of documents, and their fields, one per line, were most of the file and of the time
    to write it), a piece at a time: each document's line is made as it is written."""
    pieces = _INDENTED.iterencode(report_dict(report, publication, documents=False))
    closing = [next(pieces), next(pieces)]  # held back: the documents go before the object's end
    for piece in pieces:
        yield closing.pop(0)
        closing.append(piece)
    assert "".join(closing) == "\n}", closing
    if not report.documents:
        yield ',\n  "documents": []\n}\n'
        return
    yield ',\n  "documents": [\n'
    for number, document in enumerate(report.documents):
        yield ("    " if number == 0 else ",\n    ") + _ONE_LINE(_document(document))
    yield "\n  ]\n}\n"
