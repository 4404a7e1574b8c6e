"""The assessed gap report: everything a renderer needs, in the shape of ``report.json``. A package
of its own: assessment writes it, the gate stage and the renderers read it, and so none of them
needs the others' modules to know its shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from gapscan.scanner.common.ids import requirement_order
from gapscan.scanner.common.languages import in_order, joined, language_name, names
from gapscan.scanner.common.status import STATUSES



@dataclass(frozen=True)
class EvidenceRef:
    """A document offered as evidence for a requirement."""

    path: str
    score: float
    locator: str = ""
    modified: str = ""  # ISO date the evidence dates from (sources: scanner.pipeline._content_date)
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class NearMiss:
    path: str
    score: float


@dataclass(frozen=True)
class Related:
    """A requirement of another framework that shares evidence with this one (from a crosswalk)."""

    framework: str
    requirement: str
    relationship: str
    strength: str = ""  # the crosswalk's judgement of how much evidence they share: strong / partial / weak


@dataclass(frozen=True)
class Verdict:
    id: str
    title: str
    parent: str
    status: str  # one of STATUSES
    reason: str  # one sentence
    evidence: tuple[EvidenceRef, ...] = ()
    near_misses: tuple[NearMiss, ...] = ()
    parent_title: str = ""
    intent: str = ""
    evidence_kind: str = "none"  # maintain / retain / both / none, from the catalog
    typical_evidence: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    # The top-level group the requirement sits in (ISO clause "8" for 8.2.1, CMMI practice area
    # "PQA" for PQA 2.1) and the practice level, where the catalog has levels.
    section: str = ""
    section_title: str = ""
    level: int | None = None
    # Why a gap is one: nothing (no document is evidence), stale, template (only a blank one),
    # no_records (procedures or templates only), no_document (records without a process
    # description); "" when it is not a gap.
    shortfall: str = ""


@dataclass(frozen=True)
class FrameworkResult:
    id: str
    title: str
    version: str
    verdicts: tuple[Verdict, ...]  # always in requirement order (8.2 < 8.10), whoever builds it
    level: int | None = None  # target maturity level, where the framework has levels
    languages: tuple[str, ...] = ("en",)  # the languages its catalog reads
    # (language, documents) in languages its catalog does not read: they gave it no evidence.
    not_assessed: tuple[tuple[str, int], ...] = ()

    @property
    def not_assessed_note(self) -> str:
        """"62 documents in Spanish were not assessed", or "" when every document was."""
        return _not_assessed(self.not_assessed)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.verdicts, key=lambda v: requirement_order(v.id)))
        object.__setattr__(self, "verdicts", ordered)

    @property
    def short_name(self) -> str:
        """"ISO" for ISO 9001:2015, "CMMI" for CMMI V2.0: the title's first word."""
        words = (self.title or "").split()
        return words[0] if words else self.id

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for verdict in self.verdicts:
            counts[verdict.status] += 1
        return counts

    @property
    def coverage(self) -> float:
        """Covered requirements count fully and partial ones half, over the applicable ones."""
        counts = self.counts
        applicable = len(self.verdicts) - counts["not_applicable"]
        if applicable == 0:
            return 1.0
        return round((counts["covered"] + 0.5 * counts["partial"]) / applicable, 4)


@dataclass(frozen=True)
class Tag:
    framework: str
    requirement: str
    score: float


@dataclass(frozen=True)
class DocumentEntry:
    path: str
    format: str
    bytes: int
    sha256: str
    modified: str
    status: str  # ok / unreadable / skipped
    reason: str | None = None  # why it is unreadable, skipped or not assessed
    title: str = ""
    tags: tuple[Tag, ...] = ()
    kind: str = ""  # classifiers.doctype kind; "" for a document that was not read
    kind_signals: tuple[str, ...] = ()  # what the kind was judged by
    language: str = ""  # ISO 639-1, "und" when undetermined, "" when not read
    assessed: bool = True  # false when no catalog reads its language: it is evidence for nothing


@dataclass(frozen=True)
class NotRead:
    """Files seen but not read, for each reason counted by type (lower-case suffix such as
    ".yml"; a name without one, such as ".gitignore", stands for itself)."""

    unsupported: tuple[tuple[str, int], ...] = ()  # a type gapscan does not read
    excluded: tuple[tuple[str, int], ...] = ()  # left out by the include/exclude patterns
    too_large: tuple[tuple[str, int], ...] = ()  # over the size limit (also listed as unreadable)

    REASONS = {
        "unsupported": "of types gapscan does not read",
        "excluded": "excluded by include/exclude patterns",
        "too_large": "over the size limit",
    }

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {reason: dict(getattr(self, reason)) for reason in self.REASONS}

    @property
    def total(self) -> int:
        return sum(count for reason in self.REASONS for _, count in getattr(self, reason))

    def sentence(self, types_shown: int = 6) -> str:
        """"Not read: 16 files of types gapscan does not read (12 .png, 4 .yml), 3 excluded by
        include/exclude patterns (3 .md)." — or "" when every file seen was read."""
        parts = []
        for reason, label in self.REASONS.items():
            counts = sorted(getattr(self, reason), key=lambda item: (-item[1], item[0]))
            if not counts:
                continue
            total = sum(count for _, count in counts)
            types = ", ".join(f"{count} {kind}" for kind, count in counts[:types_shown])
            more = f", {len(counts) - types_shown} more types" if len(counts) > types_shown else ""
            parts.append(f"{total} {'file' if total == 1 else 'files'} {label} ({types}{more})")
        return f"Not read: {'; '.join(parts)}." if parts else ""


@dataclass(frozen=True)
class HistoryPoint:
    """One past scan from the index's history: when it finished and each framework's coverage."""

    finished: str
    documents: int
    readable: int
    coverage: tuple[tuple[str, float], ...] = ()  # (framework id, coverage 0..1), sorted by id

    def coverage_of(self, framework: str) -> float | None:
        return dict(self.coverage).get(framework)


@dataclass(frozen=True)
class GapReport:
    tool_version: str
    generated_at: str
    root: str
    frameworks: tuple[FrameworkResult, ...]
    documents: tuple[DocumentEntry, ...]
    warnings: tuple[str, ...] = field(default=())
    not_read: NotRead = NotRead()
    # Past scans of this root, oldest first, this one last (the HTML draws the coverage trend).
    # Not part of report.json.
    history: tuple[HistoryPoint, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        readable = sum(1 for d in self.documents if d.status == "ok")
        unreadable = sum(1 for d in self.documents if d.status != "ok")
        return {"documents": len(self.documents), "readable": readable, "unreadable": unreadable}

    @property
    def language_warning(self) -> str:
        """The warning every output opens with when documents were not assessed for their
        language, or ""."""
        counts: dict[str, int] = {}
        for document in self.documents:
            if not document.assessed:
                counts[document.language] = counts.get(document.language, 0) + 1
        if not counts:
            return ""
        read = in_order(code for framework in self.frameworks for code in framework.languages)
        return (
            f"{_not_assessed(tuple(counts.items()))}: the catalogs read {names(read) if read else 'no language'}, "
            "so requirements these documents may cover can show as gaps."
        )


def _not_assessed(counts: tuple[tuple[str, int], ...]) -> str:
    """"62 documents in Spanish and 3 in Italian were not assessed"."""
    ranked = sorted(counts, key=lambda item: (-item[1], item[0]))
    if not ranked:
        return ""
    (code, count), rest = ranked[0], ranked[1:]
    parts = [f"{count} {'document' if count == 1 else 'documents'} in {language_name(code)}"]
    parts += [f"{n} in {language_name(c)}" for c, n in rest]
    total = sum(n for _, n in ranked)
    return f"{joined(parts)} {'was' if total == 1 else 'were'} not assessed"
