"""Baselines, waivers and gates: what changed since a previous ``report.json``, which gaps are
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

Waivers file (TOML)::

    [[waiver]]
    framework = "iso9001-2015"
    requirement = "7.1.5"          # a requirement, or a group id such as "8.3" or "SAM"
    reason = "Calibration records move to the new system in Q1; tracked in CAPA-112."
    expires = 2027-01-31           # last day the waiver applies (a TOML date or "YYYY-MM-DD")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from gapscan.reports.model import GAP_STATUSES, GapReport, Verdict
from gapscan.scanner.reading import BASELINE_LIMIT, InputError, read_json, read_toml

BASELINE_SCHEMAS = ("gapscan.report/1", "gapscan.report/2")  # what they share is all a baseline needs
FAIL_ON = ("new-gaps", "any-gap", "none")
# Lower is worse: partial -> missing is a regression too.
_RANK = {"missing": 0, "partial": 1, "covered": 2, "not_applicable": 3}


class BaselineError(ValueError):
    """A baseline file that cannot be used (exit code 2)."""


class WaiverError(ValueError):
    """A waivers file that cannot be used (exit code 2)."""


# -- baseline ------------------------------------------------------------------------------------


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
            elif before == "missing" and after == "partial":
                improved.append(change)
            if after == "not_applicable" or before is None:
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


# -- waivers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiver:
    framework: str
    requirement: str  # a requirement id or a group (parent) id
    reason: str
    expires: date  # the last day it applies

    def matches(self, framework: str, verdict: Verdict) -> bool:
        return framework == self.framework and self.requirement in (verdict.id, verdict.parent)

    def label(self) -> str:
        return f"waived until {self.expires.isoformat()}: {self.reason}"


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    try:
        data = read_toml(path)
    except InputError as exc:
        raise WaiverError(f"waivers: {exc}") from None
    return parse_waivers(data, str(path))


def parse_waivers(data: dict, source: str = "waivers") -> tuple[Waiver, ...]:
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise WaiverError(f"{source}: unknown key(s): {', '.join(unknown)}; write [[waiver]] tables")
    entries = data.get("waiver", [])
    if not isinstance(entries, list):
        raise WaiverError(f"{source}: waiver must be an array of tables ([[waiver]])")
    waivers = []
    for number, entry in enumerate(entries, 1):
        where = f"{source}: waiver #{number}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where} must be a table")
        extra = sorted(set(entry) - {"framework", "requirement", "reason", "expires"})
        if extra:
            raise WaiverError(f"{where}: unknown key(s): {', '.join(extra)}")
        values = {}
        for key in ("framework", "requirement", "reason"):
            value = entry.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "requirement":
                raise WaiverError(f"{where}: write the requirement id as a string (\"{value}\")")
            if not isinstance(value, str) or not value.strip():
                raise WaiverError(f"{where}: {key} is required (a non-empty string)")
            values[key] = value.strip()
        expires = entry.get("expires")
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires.strip())
            except ValueError:
                raise WaiverError(f"{where}: expires must be a date such as 2027-01-31") from None
        elif isinstance(expires, datetime):  # a TOML datetime
            expires = expires.date()
        if not isinstance(expires, date):
            raise WaiverError(f"{where}: expires is required (a date such as 2027-01-31)")
        waivers.append(Waiver(values["framework"], values["requirement"], values["reason"], expires))
    return tuple(waivers)


@dataclass(frozen=True)
class WaiverReview:
    """Which waivers apply to this report, and which do not any more."""

    applied: tuple[tuple[str, str, Waiver], ...] = ()  # (framework, requirement, waiver) per waived gap
    expired: tuple[Waiver, ...] = ()
    unused: tuple[Waiver, ...] = ()  # in force, but no gap matches (the evidence is there now?)

    def waiver_for(self, framework: str, requirement: str) -> Waiver | None:
        for fw, rid, waiver in self.applied:
            if fw == framework and rid == requirement:
                return waiver
        return None


def review_waivers(waivers: tuple[Waiver, ...], report: GapReport, today: date) -> WaiverReview:
    expired = tuple(w for w in waivers if w.expires < today)
    live = [w for w in waivers if w.expires >= today]
    applied, used = [], set()
    for framework in report.frameworks:
        for verdict in framework.verdicts:
            if not _is_gap(verdict.status):
                continue
            # The most specific waiver wins: one for the requirement before one for its group.
            matching = sorted(
                (w for w in live if w.matches(framework.id, verdict)), key=lambda w: w.requirement != verdict.id
            )
            if matching:
                applied.append((framework.id, verdict.id, matching[0]))
                used.add(matching[0])
    unused = tuple(w for w in live if w not in used)
    return WaiverReview(tuple(applied), expired, unused)


# -- what the renderers and gates need beyond the report ------------------------------------------


@dataclass(frozen=True)
class Publication:
    """Everything a renderer may show besides the report itself."""

    diff: BaselineDiff | None = None
    waivers: WaiverReview = WaiverReview()
    partial_ok: bool = False  # a partial requirement is not a failure (JUnit skipped, gates pass)
    fail_on: str = "none"
    fail_under: float | None = None  # percent
    strict: bool = False  # an unreadable document fails the run
    config_path: str = ""  # the configuration file, relative to the scanned root ("" if none there)
    repo_prefix: str = ""  # the scanned root relative to the repository root, "" or ending in "/"
    # Where the scanned documents are published (``--link-base``), ending in "/"; "" links them
    # relative to the report's own folder.
    link_base: str = ""

    @property
    def gated(self) -> bool:
        """Whether the run has anything to say about gates: a gate, a baseline or waivers."""
        waivers = self.waivers
        return bool(self.diff is not None or self.fail_on != "none" or self.fail_under is not None or self.strict
                    or waivers.applied or waivers.expired or waivers.unused)

    def waiver_for(self, framework: str, requirement: str) -> Waiver | None:
        return self.waivers.waiver_for(framework, requirement)

    def is_failure(self, framework: str, verdict: Verdict) -> bool:
        """Whether this verdict counts against the run: a gap, not waived, and not a partial one
        when partial results are accepted."""
        if not _is_gap(verdict.status):
            return False
        if verdict.status == "partial" and self.partial_ok:
            return False
        return self.waiver_for(framework, verdict.id) is None


def gate_failures(report: GapReport, publication: Publication) -> list[str]:
    """One line per failed gate (empty: the gates pass): ``--fail-under``, ``--strict`` and
    ``--fail-on``."""
    failures = []
    if publication.fail_under is not None:
        for framework in report.frameworks:
            if framework.coverage * 100 < publication.fail_under:
                failures.append(f"{framework.id} coverage {framework.coverage:.0%} is below --fail-under "
                                f"{publication.fail_under:g}%")
    unreadable = report.summary["unreadable"]
    if publication.strict and unreadable:
        failures.append(f"{unreadable} document(s) unreadable (--strict)")
    return failures + _fail_on(report, publication)


def _fail_on(report: GapReport, publication: Publication) -> list[str]:
    if publication.fail_on == "any-gap":
        gaps = [
            f"{fw.id} {v.id}" for fw in report.frameworks for v in fw.verdicts if publication.is_failure(fw.id, v)
        ]
        if gaps:
            return [f"{len(gaps)} gap(s) (--fail-on any-gap): {_some(gaps)}"]
    elif publication.fail_on == "new-gaps":
        if publication.diff is None:
            return ["--fail-on new-gaps needs --baseline"]
        verdicts = {(fw.id, v.id): v for fw in report.frameworks for v in fw.verdicts}
        new = [
            f"{c.framework} {c.requirement} ({c.before or 'not assessed'} \u2192 {c.after})"
            for c in publication.diff.new_gaps
            if publication.is_failure(c.framework, verdicts[(c.framework, c.requirement)])
        ]
        if new:
            return [f"{len(new)} new gap(s) since the baseline (--fail-on new-gaps): {_some(new)}"]
    return []


def _some(items: list[str], shown: int = 8) -> str:
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")
