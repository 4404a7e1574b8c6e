"""``report.json``, schema ``gapscan.report/1`` (documented in docs/report-json.md)."""

from __future__ import annotations

import json

from gapscan.reports.model import GapReport

SCHEMA = "gapscan.report/1"


def report_dict(report: GapReport) -> dict:
    return {
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
        "documents": [
            {
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
                "tags": [
                    {"framework": t.framework, "requirement": t.requirement, "score": t.score}
                    for t in document.tags
                ],
            }
            for document in report.documents
        ],
    }


def render_json(report: GapReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
