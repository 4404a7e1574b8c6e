"""Gap assessment: a verdict for every in-scope requirement from the evidence the classifier found.

- covered: a document the classifier tagged for it, fresh enough and of the right kind;
- partial: real evidence that falls short: only stale evidence, only blank templates, or only
  procedures or templates where the catalog asks for records (and says which);
- missing: no document is evidence; a near miss (a score the classifier did not tag) never raises
  coverage, it is only listed;
- not_applicable: excluded by the configuration with a justification.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from gapscan.mappings import Catalog, Crosswalk, Requirement, requirement_order
from gapscan.reports.model import EvidenceRef, FrameworkResult, NearMiss, Related, Verdict
from gapscan.scanner.common.evidence import Evidence
from gapscan.scanner.common.kinds import TEMPLATE, counts_as_document, counts_as_record
from gapscan.scanner.common.status import Status

MAX_EVIDENCE = 10
MAX_NEAR_MISSES = 3


@dataclass(frozen=True)
class AssessmentInputs:
    """What assessment needs to know about each document besides its scores."""

    dates: dict[str, str]  # path -> ISO date the document's content dates from ("" when unknown)
    kinds: dict[str, str]  # path -> document kind (scanner.common.kinds)
    today: date


def assess(
    catalog: Catalog,
    level: int | None,
    evidence: list[Evidence],
    inputs: AssessmentInputs,
    *,
    not_applicable: dict[str, str] | None = None,
    max_age_days: dict[str, int] | None = None,
    crosswalks: tuple[Crosswalk, ...] = (),
    frameworks_in_scope: set[str] | None = None,
) -> FrameworkResult:
    by_requirement: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        if item.framework == catalog.id:
            by_requirement[item.requirement].append(item)
    not_applicable = not_applicable or {}
    max_age_days = max_age_days or {}
    verdicts = []
    for requirement in catalog.in_scope(level):
        found = sorted(by_requirement.get(requirement.id, []), key=lambda e: (-e.score, e.path))
        justification = _configured(not_applicable, catalog, requirement)
        age_limit = _configured(max_age_days, catalog, requirement) or requirement.max_age_days
        status, reason, offered, near, shortfall = _judge(requirement, found, inputs, justification, age_limit)
        parent = catalog.parent_of(requirement)
        section = _section(catalog, requirement)
        verdicts.append(
            Verdict(
                id=requirement.id,
                title=requirement.title,
                parent=requirement.parent,
                parent_title=parent.title if parent else "",
                status=status,
                reason=reason,
                evidence=tuple(
                    EvidenceRef(e.path, e.score, e.locator, inputs.dates.get(e.path, ""), e.terms)
                    for e in offered[:MAX_EVIDENCE]
                ),
                near_misses=tuple(NearMiss(e.path, e.score) for e in near[:MAX_NEAR_MISSES]),
                intent=requirement.intent,
                evidence_kind=requirement.evidence,
                typical_evidence=requirement.typical_evidence,
                related=_related(catalog.id, requirement.id, crosswalks, frameworks_in_scope),
                section=section.id if section else "",
                section_title=section.title if section else "",
                level=requirement.level,
                shortfall=shortfall,
            )
        )
    return FrameworkResult(catalog.id, catalog.title, catalog.version, tuple(verdicts), level)


def _configured(table: dict, catalog: Catalog, requirement: Requirement):
    """A per-requirement setting, given for the requirement itself or for one of its parents."""
    current: Requirement | None = requirement
    while current is not None:
        if current.id in table:
            return table[current.id]
        current = catalog.parent_of(current)
    return None


def _section(catalog: Catalog, requirement: Requirement) -> Requirement | None:
    """The top-level group above a requirement (ISO clause 8 for 8.2.1), or None at the top."""
    top = catalog.parent_of(requirement)
    while top is not None and top.parent:
        top = catalog.parent_of(top)
    return top


def _judge(requirement, found, inputs, justification, age_limit):  # noqa: PLR0911  one return per verdict
    """Status, reason, the evidence offered, the near misses, and the shortfall (why a gap is one:
    nothing, stale, template, no_records, no_document; "" when it is not a gap)."""
    if justification:
        return Status.NOT_APPLICABLE, f"Not applicable: {justification}", [], [], ""
    tags = [e for e in found if e.tag]
    near = [e for e in found if not e.tag]
    if not tags:
        if near and near[0].decision:
            return (Status.MISSING, f"No document is evidence for this requirement; the closest, {near[0].path}, "
                               f"is not: {near[0].decision}.", [], near, "nothing")
        return Status.MISSING, "No document is evidence for this requirement.", [], near, "nothing"

    if age_limit:
        fresh = [e for e in tags if not _older_than(inputs.dates.get(e.path, ""), age_limit, inputs.today)]
        if not fresh:
            newest = max((inputs.dates.get(e.path, "") for e in tags), default="")
            return (
                Status.PARTIAL,
                f"Evidence is stale: the newest dates from {newest}, older than the {age_limit}-day limit.",
                tags,
                near,
                "stale",
            )
    else:
        fresh = tags

    if not requirement.needs_records and all(inputs.kinds.get(e.path) == TEMPLATE for e in fresh):
        return (Status.PARTIAL, f"Only a blank template ({fresh[0].path}): the filled-in document is not there.",
                tags, near, "template")
    if requirement.needs_records:
        records = [e for e in fresh if counts_as_record(inputs.kinds.get(e.path, ""))]
        if not records:
            stale_records = [e for e in tags if e not in fresh and counts_as_record(inputs.kinds.get(e.path, ""))]
            if stale_records:
                newest = max(inputs.dates.get(e.path, "") for e in stale_records)
                reason = (f"The records are stale: the newest dates from {newest}, older than the "
                          f"{age_limit}-day limit; only procedures or templates are current.")
                return Status.PARTIAL, reason, tags, near, "stale"
            found_kinds = sorted({inputs.kinds.get(e.path, "other") for e in fresh})
            reason = (f"Only {' and '.join(_plural(k) for k in found_kinds)} found ({fresh[0].path}); "
                      "records that show it is done are required.")
            return Status.PARTIAL, reason, tags, near, "no_records"
        fresh = records
        if requirement.evidence == "both" and not any(counts_as_document(inputs.kinds.get(e.path, "")) for e in tags):
            return (
                Status.PARTIAL,
                f"Records found ({fresh[0].path}) but no maintained document such as a process description.",
                tags,
                near,
                "no_document",
            )

    best = fresh[0]
    others = len(tags) - 1
    more = f" and {others} more document{'s' if others != 1 else ''}" if others else ""
    return Status.COVERED, f"Evidenced by {best.path} (score {best.score:.2f}){more}.", tags, [], ""


def _plural(kind: str) -> str:
    return {"policy": "policies", "other": "other documents"}.get(kind, kind + "s")


def _older_than(iso_date: str, days: int, today: date) -> bool:
    try:
        when = date.fromisoformat(iso_date[:10])
    except ValueError:
        return False  # an undated document is not called stale; its mtime date is used where known
    return (today - when).days > days


def _related(framework, requirement_id, crosswalks, in_scope) -> tuple[Related, ...]:
    related = []
    for crosswalk in crosswalks:
        for other_framework, other_id, link in crosswalk.related(framework, requirement_id):
            if in_scope is not None and other_framework not in in_scope:
                continue
            related.append(Related(other_framework, other_id, link.relationship, link.strength))
    return tuple(sorted(set(related), key=lambda r: (r.framework, requirement_order(r.requirement))))
