"""The action plan: which evidence to produce first, and what it closes.

Every missing or partial requirement is closed by some piece of evidence. Through the crosswalk one
piece often closes gaps in two frameworks at once (an internal-audit record is evidence for ISO 9.2
and for CMMI PQA 2.x), so the plan is built greedily: the action that closes the most open gaps
across the most frameworks comes first, its gaps are taken off, and the next is chosen among what
is left. Ties go to requirements that need records (they take time to accumulate), then to the
report's framework order (ISO 9001 first), missing before partial, and requirement order. Each gap
belongs to exactly one action.

Each action says, in plain words, what an auditor expects to see, what to do about this particular
shortfall, and the nearest existing document to start from: the requirement's own closest match,
else a document that is already evidence for a requirement the crosswalk says shares its evidence.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from gapscan.mappings import EVIDENCE_KINDS
from gapscan.reports.model import FrameworkResult, GapReport, Related, Verdict
from gapscan.scanner.common.status import GAP_STATUSES, Status

# Links the crosswalk calls weak share too little evidence to close a gap with the same document.
_SHARED = frozenset({"strong", "partial", ""})

_PRODUCE = {
    "maintain": "a maintained document",
    "retain": "records",
    "both": "a maintained document and records that it is followed",
    "none": "evidence that it is done",
}
# What to do about each shortfall, as a headline and the sentence after it; {what} is what the
# requirement asks for, {start} the document to start from.
_STEPS = {
    "nothing": ("Produce {what}", "nothing in the scanned folder is evidence for it yet."),
    "template": ("Fill it in", "only a blank template ({start}) was found; keep the completed document."),
    "stale": ("Bring the evidence up to date", "the newest is older than the age limit; review it, or produce "
              "{what} dated within the limit."),
    "no_records": ("Keep the records", "only procedures or templates were found; produce records that show "
                   "it is done."),
    "no_document": ("Write down the process", "records exist, but no maintained document describes it."),
    "other": ("Close what the evidence lacks", "{reason}"),
}


@dataclass(frozen=True)
class Gap:
    """A requirement an action closes."""

    framework: str
    requirement: str
    title: str
    status: str


@dataclass(frozen=True)
class StartingPoint:
    path: str
    score: float
    why: str  # "closest match" or "evidence for ISO 9.2, which shares evidence with it"


@dataclass(frozen=True)
class Action:
    rank: int
    framework: str  # the requirement the action is named after
    requirement: str
    title: str
    status: str
    needs: str  # the catalog's evidence kind: maintain / retain / both / none
    headline: str  # what to do, in a few words: "Keep the records"
    step: str  # the headline and why: one or two sentences
    expected: str  # what an auditor expects to see, in plain words
    start_from: StartingPoint | None
    closes: tuple[Gap, ...]  # this requirement first, then the crosswalk's

    @property
    def frameworks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(gap.framework for gap in self.closes))


def action_plan(report: GapReport) -> tuple[Action, ...]:
    """Every gap of the report, once, in the order to work on them."""
    order = {fw.id: rank for rank, fw in enumerate(report.frameworks)}
    verdicts: dict[tuple[str, str], Verdict] = {}
    for fw in report.frameworks:
        for verdict in fw.verdicts:
            verdicts[(fw.id, verdict.id)] = verdict
    gaps = [key for key, verdict in verdicts.items() if verdict.status in GAP_STATUSES]
    shared = {key: _shared_gaps(key, verdicts) for key in gaps}
    open_gaps = set(gaps)
    position = {key: number for number, key in enumerate(gaps)}

    def priority(key: tuple[str, str]) -> tuple:
        closes = [key] + [k for k in shared[key] if k in open_gaps]
        verdict = verdicts[key]
        return (-len({framework for framework, _ in closes}), -len(closes), not _needs_records(verdict),
                order[key[0]], verdict.status != Status.MISSING, position[key])

    # A gap's priority only worsens as others close (it closes fewer), so a priority taken earlier
    # is a lower bound: the first gap whose priority has not changed since it was taken comes
    # next, as if every open gap were compared each time (which grows with the square of the gaps).
    queue = [(priority(key), key) for key in gaps]
    heapq.heapify(queue)
    actions: list[Action] = []
    while queue:
        taken, anchor = heapq.heappop(queue)
        if anchor not in open_gaps:
            continue
        now = priority(anchor)
        if now != taken:
            heapq.heappush(queue, (now, anchor))
            continue
        closes = [anchor] + [k for k in shared[anchor] if k in open_gaps]
        open_gaps.difference_update(closes)
        actions.append(_action(len(actions) + 1, anchor, closes, verdicts, report.frameworks))
    return tuple(actions)


def _shared_gaps(key: tuple[str, str], verdicts: dict[tuple[str, str], Verdict]) -> list[tuple[str, str]]:
    """Gaps in other frameworks that the crosswalk links to this requirement one to one. A link to
    a whole group (ISO 9.1.1 to the CMMI practice area MPM) says the area's evidence as a body
    overlaps; one document does not close each of its practices, so it does not count here."""
    found = []
    for related in verdicts[key].related:
        other = verdicts.get((related.framework, related.requirement))
        if related.strength in _SHARED and other is not None and other.status in GAP_STATUSES:
            found.append((related.framework, related.requirement))
    return list(dict.fromkeys(found))


def _touches(related: Related, verdict: Verdict) -> bool:
    return related.requirement in (verdict.id, verdict.parent, verdict.section)


def _needs_records(verdict: Verdict) -> bool:
    return verdict.evidence_kind in ("retain", "both")


def _action(rank, anchor, closes, verdicts, frameworks: tuple[FrameworkResult, ...]) -> Action:
    verdict = verdicts[anchor]
    start = _start_from(verdict, verdicts, {fw.id: fw.short_name for fw in frameworks})
    what = _PRODUCE.get(verdict.evidence_kind, _PRODUCE["none"])
    shortfall = verdict.shortfall or ("nothing" if verdict.status == Status.MISSING else "other")
    headline, detail = _STEPS.get(shortfall, _STEPS["other"])
    headline = headline.format(what=what)
    detail = detail.format(what=what, start=start.path if start else "", reason=verdict.reason)
    return Action(
        rank=rank,
        framework=anchor[0],
        requirement=anchor[1],
        title=verdict.title,
        status=verdict.status,
        needs=verdict.evidence_kind,
        headline=headline,
        step=f"{headline}: {detail}",
        expected=expected_evidence(verdict),
        start_from=start,
        closes=tuple(Gap(fw, rid, verdicts[(fw, rid)].title, verdicts[(fw, rid)].status) for fw, rid in closes),
    )


def expected_evidence(verdict: Verdict) -> str:
    """What an auditor expects to see, in plain words: the kind of evidence and typical examples."""
    label, meaning = EVIDENCE_KINDS.get(verdict.evidence_kind, EVIDENCE_KINDS["none"])
    text = meaning[0].upper() + meaning[1:]
    if verdict.typical_evidence:
        text += "; for example " + ", ".join(verdict.typical_evidence)
    return text + "."


def _start_from(verdict: Verdict, verdicts, short_names: dict[str, str]) -> StartingPoint | None:
    own = [(e.path, e.score) for e in verdict.evidence] + [(n.path, n.score) for n in verdict.near_misses]
    if own:
        path, score = max(own, key=lambda item: item[1])
        return StartingPoint(path, score, "closest match")
    borrowed = []
    for related in verdict.related:
        for (framework, _), other in verdicts.items():
            if framework == related.framework and other.status == Status.COVERED and _touches(related, other):
                best = max(other.evidence, key=lambda e: e.score, default=None)
                if best is not None:
                    borrowed.append((best.score, best.path, f"{short_names.get(framework, framework)} {other.id}"))
    if not borrowed:
        return None
    score, path, name = max(borrowed, key=lambda item: item[0])
    return StartingPoint(path, score, f"evidence for {name}, which shares evidence with it")

