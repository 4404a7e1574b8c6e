"""Baselines: what changed since a previous ``report.json``.
accepted, and what fails the run.

Identity never depends on positions (line numbers, list order): a requirement is known by its
framework and id, a document by its content hash (SHA-256), with its path as the fallback when its
content changed. So a renamed document is the same evidence, an edited one is still the same
document, and reordering a catalog or a folder changes nothing.

Pitfalls other baseline tools ran into, and what this module does about them:

- a baseline keyed by line numbers churns on every edit: keys here are ids and content hashes;
- a baseline from another tool version silently compares different things: the schema is checked
  (``gapscan.report/1``), and differing catalog versions are reported as notes;
- a stale baseline hides regressions (a gap resolved and later reintroduced is not "new" against an
  old baseline): compare against the last report of the main branch, which CI refreshes on every
  merge, rather than a file committed once;
- accepted findings that are accepted forever: every waiver has a reason and an expiry date;
  an expired waiver stops applying and is reported, and so is a waiver that matches no gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gapscan.reports.model import GapReport
from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.reading import BASELINE_LIMIT, InputError, read_json
from gapscan.scanner.common.status import GAP_STATUSES, Status

BASELINE_SCHEMAS = ("gapscan.report/1", "gapscan.report/2")  # what they share is all a baseline needs
# Lower is worse: partial -> missing is a regression too.
_RANK: dict[str, int] = {Status.MISSING: 0, Status.PARTIAL: 1, Status.COVERED: 2, Status.NOT_APPLICABLE: 3}


class BaselineError(ValueError, GapscanError):
    """A baseline file that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class BaselineFramework:
    id: str
    version: str
    coverage: float | None
    statuses: dict[str, str]  # requirement id -> status
    titles: dict[str, str]


@dataclass(frozen=True)
class Baseline:
    source: str
    generated_at: str
    tool_version: str
    frameworks: dict[str, BaselineFramework]
    documents: dict[str, str]  # path -> sha256
    evidence: dict[tuple[str, str], frozenset[tuple[str, str]]]  # (framework, req) -> {(path, sha)}


def load_baseline(path: Path) -> Baseline:
    try:
        data = read_json(Path(path), BASELINE_LIMIT)
    except InputError as exc:
        raise BaselineError(f"baseline: {exc} (not a JSON report that gapscan wrote)") from None
    return parse_baseline(data, str(path))


def parse_baseline(data: object, source: str = "baseline") -> Baseline:
    """A baseline from a parsed ``report.json``; anything else is a :class:`BaselineError`."""
    if not isinstance(data, dict) or data.get("schema") not in BASELINE_SCHEMAS:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise BaselineError(f"{source}: not a gapscan report (schema {found!r}, expected one of "
                            f"{', '.join(map(repr, BASELINE_SCHEMAS))})")
    try:
        frameworks = {}
        for framework in data["frameworks"]:
            requirements = framework["requirements"]
            frameworks[str(framework["id"])] = BaselineFramework(
                id=str(framework["id"]),
                version=str(framework.get("version", "")),
                coverage=float(framework["coverage"]) if isinstance(framework.get("coverage"), (int, float)) else None,
                statuses={str(r["id"]): str(r["status"]) for r in requirements},
                titles={str(r["id"]): str(r.get("title", "")) for r in requirements},
            )
        documents: dict[str, str] = {}
        evidence: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for document in data["documents"]:
            path, sha = str(document["path"]), str(document.get("sha256") or "")
            documents[path] = sha
            for tag in document.get("tags", []):
                key = (str(tag["framework"]), str(tag["requirement"]))
                evidence.setdefault(key, set()).add((path, sha))
        tool = data.get("tool") or {}
        return Baseline(
            source=source,
            generated_at=str(data.get("generated_at", "")),
            tool_version=str(tool.get("version", "")) if isinstance(tool, dict) else "",
            frameworks=frameworks,
            documents=documents,
            evidence={k: frozenset(v) for k, v in evidence.items()},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise BaselineError(f"{source}: a malformed gapscan report ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class StatusChange:
    framework: str
    requirement: str
    title: str
    before: str | None  # None: the requirement was not in the baseline
    after: str


@dataclass(frozen=True)
class EvidenceLoss:
    framework: str
    requirement: str
    title: str
    status: str  # the status now
    lost: tuple[str, ...]  # paths (as in the baseline) that no longer count as evidence
    remaining: int  # documents that still do


@dataclass(frozen=True)
class BaselineDiff:
    source: str
    generated_at: str
    new_gaps: tuple[StatusChange, ...] = ()  # not a gap before (or better before), a gap now
    resolved: tuple[StatusChange, ...] = ()  # a gap before, not now
    improved: tuple[StatusChange, ...] = ()  # missing before, partial now
    shrunk: tuple[EvidenceLoss, ...] = ()  # requirements that lost evidence documents
    disappeared: tuple[str, ...] = ()  # documents gone: neither their content nor their path is left
    notes: tuple[str, ...] = ()
    coverage_before: tuple[tuple[str, float], ...] = ()  # (framework, coverage) in the baseline

    def coverage_of(self, framework: str) -> float | None:
        return dict(self.coverage_before).get(framework)

    @property
    def changed(self) -> bool:
        return bool(self.new_gaps or self.resolved or self.improved or self.shrunk or self.disappeared)


def _is_gap(status: str | None) -> bool:
    return status in GAP_STATUSES


def compare(baseline: Baseline, report: GapReport) -> BaselineDiff:
    """What changed from ``baseline`` to ``report``, by requirement id and document content."""
    notes = []
    current_docs = {d.path: d.sha256 for d in report.documents}
    current_shas = set(current_docs.values())
    current_evidence: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for document in report.documents:
        for tag in document.tags:
            current_evidence.setdefault((tag.framework, tag.requirement), set()).add(
                (document.path, document.sha256)
            )

    new_gaps, resolved, improved, shrunk = [], [], [], []
    for framework in report.frameworks:
        before_fw = baseline.frameworks.get(framework.id)
        if before_fw is None:
            notes.append(f"{framework.id} is not in the baseline; its requirements were not compared.")
            continue
        if before_fw.version and framework.version and before_fw.version != framework.version:
            notes.append(
                f"{framework.id}: the baseline used catalog version {before_fw.version}, this scan "
                f"{framework.version}; requirements new to the catalog count as new gaps."
            )
        for verdict in framework.verdicts:
            before = before_fw.statuses.get(verdict.id)
            after = verdict.status
            change = StatusChange(framework.id, verdict.id, verdict.title, before, after)
            if _is_gap(after) and (not _is_gap(before) or _RANK[after] < _RANK.get(before or "", 9)):
                new_gaps.append(change)
            elif _is_gap(before) and not _is_gap(after):
                resolved.append(change)
            elif before == Status.MISSING and after == Status.PARTIAL:
                improved.append(change)
            if after == Status.NOT_APPLICABLE or before is None:
                continue
            key = (framework.id, verdict.id)
            now = current_evidence.get(key, set())
            now_shas = {sha for _, sha in now if sha}
            now_paths = {path for path, _ in now}
            lost = sorted(
                path for path, sha in baseline.evidence.get(key, frozenset())
                if (not sha or sha not in now_shas) and path not in now_paths
            )
            if lost:
                shrunk.append(EvidenceLoss(framework.id, verdict.id, verdict.title, after, tuple(lost), len(now)))
    assessed = {framework.id for framework in report.frameworks}
    notes += [f"{fid} is in the baseline but was not assessed in this scan." for fid in baseline.frameworks
              if fid not in assessed]
    disappeared = sorted(
        path for path, sha in baseline.documents.items()
        if path not in current_docs and (not sha or sha not in current_shas)
    )
    return BaselineDiff(
        source=baseline.source,
        generated_at=baseline.generated_at,
        new_gaps=tuple(new_gaps),
        resolved=tuple(resolved),
        improved=tuple(improved),
        shrunk=tuple(shrunk),
        disappeared=tuple(disappeared),
        notes=tuple(notes),
        coverage_before=tuple(
            (fid, fw.coverage) for fid, fw in sorted(baseline.frameworks.items()) if fw.coverage is not None
        ),
    )
