"""``report.sarif``: gaps as SARIF 2.1.0 results, for GitHub code scanning and other SARIF viewers.

- a ``partial`` requirement (weak, stale, or procedure-only evidence) is a ``warning`` located at
  the document concerned (its best evidence, or the closest near miss), other evidence as related
  locations;
- a ``missing`` requirement is an ``error`` located at the configuration file, or at the scanned
  root when there is none inside the repository;
- a gap with a waiver in force carries an accepted external suppression with the waiver's reason;
- unreadable documents are tool execution notifications.

Rules are the requirements (``iso9001-2015/9.2``), so an alert is titled by its requirement and
stays the same alert from run to run (``partialFingerprints`` are keyed by framework and
requirement, never by position). URIs are relative to the repository root (``uriBaseId``
``%SRCROOT%``) and percent-encoded, as GitHub expects.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from gapscan.reports.gate import Publication
from gapscan.reports.inert import document_href, one_line, truncate
from gapscan.reports.model import FrameworkResult, GapReport, Verdict
from gapscan.scanner.common.names import percent_encoded
from gapscan.scanner.common.status import GAP_STATUSES, Status
from gapscan.scanner.common.text import clean_text

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
BASE_ID = "%SRCROOT%"
_MAX_RELATED = 9
_MESSAGE_CHARS = 2_000


def render_sarif(report: GapReport, publication: Publication | None = None) -> str:
    publication = publication or Publication()
    rules: list[dict] = []
    indexes: dict[str, int] = {}
    results: list[dict] = []
    for framework in report.frameworks:
        for verdict in framework.verdicts:
            if verdict.status not in GAP_STATUSES:
                continue
            rule_id = _rule_id(framework.id, verdict.id)
            if rule_id not in indexes:  # rules must be unique
                indexes[rule_id] = len(rules)
                rules.append(_rule(framework, verdict))
            results.append(_result(framework, verdict, indexes[rule_id], publication))
    run: dict = {
        "tool": {
            "driver": {
                "name": "gapscan",
                "version": clean_text(report.tool_version),
                "rules": rules,
            }
        },
        "results": results,
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "warning",
                        "message": {"text": _text(f"{d.path} was not read: {d.reason or d.status}")},
                        "locations": [_location(publication.repo_prefix + d.path)],
                    }
                    for d in report.documents
                    if d.status != "ok"
                ],
            }
        ],
        "columnKind": "unicodeCodePoints",
    }
    base = _web_base(publication) or _base_uri(report.root, publication.repo_prefix)
    if base:
        run["originalUriBaseIds"] = {BASE_ID: {"uri": base}}
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(framework: FrameworkResult, verdict: Verdict) -> dict:
    name = one_line(framework.title or framework.id)
    rule = {
        "id": _rule_id(framework.id, verdict.id),
        "shortDescription": {"text": _text(f"{name} {verdict.id} {verdict.title}", 1_000)},
        "fullDescription": {"text": _text(verdict.intent or verdict.title or verdict.id)},
        "defaultConfiguration": {"level": "error" if verdict.status == Status.MISSING else "warning"},
        "properties": {"tags": ["evidence-gap", one_line(framework.id)]},
    }
    if verdict.typical_evidence:
        rule["help"] = {
            "text": _text("Typical evidence: " + "; ".join(verdict.typical_evidence))
        }
    return rule


def _text(value: str, limit: int = _MESSAGE_CHARS) -> str:
    """Plain message text: one line, and square brackets escaped (SARIF reads ``[text](target)``
    in a message as an embedded link, so a file name could otherwise make one)."""
    return re.sub(r"([\[\]])", r"\\\1", truncate(one_line(value), limit))


def _rule_id(framework: str, requirement: str) -> str:
    return one_line(f"{framework}/{requirement}")


def _result(framework: FrameworkResult, verdict: Verdict, rule_index: int, publication: Publication) -> dict:
    message = f"{verdict.id} {verdict.title} is {verdict.status.replace('_', ' ')}: {verdict.reason}"
    if verdict.near_misses and not verdict.evidence:
        message += " Near misses: " + ", ".join(f"{n.path} ({n.score:.2f})" for n in verdict.near_misses) + "."
    located = [e.path for e in verdict.evidence] or [n.path for n in verdict.near_misses]
    if verdict.status == Status.PARTIAL and located:
        locations = [_location(publication.repo_prefix + located[0])]
        related = [
            dict(_location(publication.repo_prefix + path), id=number)
            for number, path in enumerate(located[1 : 1 + _MAX_RELATED], 1)
        ]
    else:
        target = publication.config_path or (publication.repo_prefix or ".")
        locations = [_location(target, directory=not publication.config_path)]
        related = [
            dict(_location(publication.repo_prefix + n.path), id=number)
            for number, n in enumerate(verdict.near_misses[:_MAX_RELATED], 1)
        ]
    identity = f"{framework.id}\x00{verdict.id}"
    result: dict = {
        "ruleId": _rule_id(framework.id, verdict.id),
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": "error" if verdict.status == Status.MISSING else ("note" if publication.partial_ok else "warning"),
        "message": {"text": _text(message)},
        "locations": locations,
        "partialFingerprints": {
            "gapscanRequirement/v1": hashlib.sha256(clean_text(identity).encode("utf-8")).hexdigest()
        },
        "properties": {
            "framework": clean_text(framework.id), "requirement": clean_text(verdict.id), "status": verdict.status
        },
    }
    if related:
        result["relatedLocations"] = related
    waiver = publication.waiver_for(framework.id, verdict.id)
    if waiver is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": _text(waiver.label())}
        ]
    return result


def _location(path: str, *, directory: bool = False) -> dict:
    uri = _uri(path)
    if directory and not uri.endswith("/"):
        uri += "/"
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": BASE_ID},
            "region": {"startLine": 1},
        }
    }


def _uri(path: str) -> str:
    """A relative URI reference for a display path (see ``document_href``): never absolute, never
    leaving the root."""
    return document_href(path) or "./"


def _web_base(publication: Publication) -> str:
    """With ``--link-base`` (the scanned folder's web address), the repository root's address:
    as many folders up as the scanned folder lies below the root. SARIF wants it absolute."""
    if not urlsplit(publication.link_base).scheme:
        return ""
    depth = len([p for p in publication.repo_prefix.split("/") if p])
    return urljoin(publication.link_base, "../" * depth) if depth else publication.link_base


def _base_uri(root: str, prefix: str) -> str:
    """``file:`` URI of the repository root (the scanned root less ``prefix``), ending in ``/``."""
    path = PurePosixPath(clean_text(root).replace("\\", "/"))
    if not path.is_absolute():
        return ""
    depth = len([p for p in prefix.split("/") if p])
    if depth:
        if depth >= len(path.parts):
            return ""
        path = path.parents[depth - 1]
    uri = "file://" + percent_encoded(str(path), safe="/")
    return uri if uri.endswith("/") else uri + "/"
