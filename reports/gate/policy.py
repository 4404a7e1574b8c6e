"""Gate policy, the one place that decides whether a run fails: ``--fail-under``, ``--strict`` and
``--fail-on`` (``new-gaps`` against a baseline, or ``any-gap``), with waived gaps and, with
``--partial-ok``, partial ones not counted; and :class:`Publication`, everything a renderer may
show besides the report (baseline diff, waivers, gate options, where documents are published)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gapscan.reports.gate.baseline import BaselineDiff
from gapscan.reports.gate.waivers import Waiver, WaiverReview
from gapscan.reports.model import GapReport, Verdict
from gapscan.scanner.common.status import GAP_STATUSES, Status


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
        if verdict.status not in GAP_STATUSES:
            return False
        if verdict.status == Status.PARTIAL and self.partial_ok:
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


def check_gates(report: GapReport, publication: Publication, tell: Callable[[str], None]) -> bool:
    """Whether a gate failed; ``tell`` hears one "gate failed: ..." line per failed gate."""
    failures = gate_failures(report, publication)
    for failure in failures:
        tell(f"gate failed: {failure}")
    return bool(failures)


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
