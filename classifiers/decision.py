"""Which of a collection's scores are evidence (``Decider.decide``), and the types classification
hands on: the decision needs only the catalogs' requirements and the settings, not the fitted
profiles or the supervised model, so a rescan whose scores are all cached never builds those
(``Tagger`` in classifiers/tfidf.py scores; see the module's docstring for the two steps)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from gapscan.classifiers.doctype import OUT_OF_SCOPE, Kind
from gapscan.classifiers.labels import label_class
from gapscan.classifiers.scope import Scope
from gapscan.mappings import Catalog
from gapscan.scanner.common.evidence import Check, Evidence


@dataclass(frozen=True)
class TaggerSettings:
    # A section shorter than this is joined to the next one: a lone heading is not evidence.
    min_section_chars: int = 400
    max_section_chars: int = 6000
    # How much a single section can carry: 1.0 takes the best section as it is.
    section_weight: float = 0.85
    # Profile similarity (cosine) becomes a score in [0, 1] through a logistic curve: a cosine of
    # ``profile_center`` scores 0.5; ``profile_width`` sets how steeply the score rises around it.
    profile_center: float = 0.18
    profile_width: float = 0.03
    # Where a supervised model knows the requirement's label class, its probability gets this weight.
    supervised_weight: float = 0.5
    # The decision (chosen with `gapscan eval --cv source` on the shared corpus, docs/accuracy.md).
    # A requirement's baseline in a collection is what the documents mainly about other
    # requirements score for it (their ``baseline_quantile``), drawn towards the same over all the
    # framework's requirements as if ``baseline_prior`` more documents scored that (a folder of
    # three documents has no baseline of its own); ``baseline_weight`` of it is taken off every score.
    baseline_quantile: float = 0.8
    baseline_weight: float = 0.5
    baseline_prior: float = 10.0
    evidence_floor: float = 0.35  # a score above the baseline by at least this can be evidence ...
    # ... if it is also at least this share of the document's best in that framework: a document
    # is evidence for what it is mainly about, not for everything it mentions.
    relative_cutoff: float = 1.0
    # ... and the other requirements of its clause or practice area that score at least this share
    # of it: a document-control procedure is evidence for 7.5.1, 7.5.2 and 7.5.3 alike.
    sibling_cutoff: float = 0.8
    # A document that resembles a neighbouring regime more than a framework's closest requirement
    # by more than this (in cosine similarity) is out of that framework's scope.
    scope_margin: float = -0.02
    # A record of an activity (a training questionnaire) scores at least this for the requirements
    # its records evidence (``records_of`` in the catalog), and only those are tagged in its framework.
    record_score: float = 0.9
    # A document with fewer words of its own than this is never evidence, whatever its name says
    # ("internal-audit-report-2024.md" holding "TBD"); it can still be listed as a near miss.
    min_content_words: int = 15
    near_miss_floor: float = 0.15  # below: not worth listing as a near miss
    top_terms: int = 6


@dataclass(frozen=True)
class DocumentScores:
    """What classification says about one document on its own (``Tagger.score``)."""

    path: str
    kind: Kind
    scope: Scope
    activity: str | None  # the activity the document is a record of ("training"), by its name
    content_words: int
    candidates: tuple[Evidence, ...]  # every requirement scoring at least the near-miss floor, untagged


@dataclass(frozen=True)
class Classified:
    """A document's kind and evidence once the collection is weighed (``Tagger.decide``); each
    piece of evidence says in ``decision`` why it is, or is not, a tag."""

    path: str
    kind: Kind
    evidence: tuple[Evidence, ...]



class Decider:
    """The requirements of the given catalogs in scope at their levels, in a fixed order, and the
    decision over a collection's scores."""

    def __init__(self, catalogs: list[tuple[Catalog, int | None]], settings: TaggerSettings | None = None):
        self.settings = settings or TaggerSettings()
        self.catalogs = catalogs
        self.keys: list[tuple[str, str]] = []
        self.records_of: list[tuple[str, ...]] = []
        self.spans: list[tuple[int, int]] = []  # each framework's positions in ``keys``: [first, end)
        framework_of = []
        for position, (catalog, level) in enumerate(catalogs):
            first = len(self.keys)
            for requirement in catalog.in_scope(level):
                self.keys.append((catalog.id, requirement.id))
                self.records_of.append(requirement.records_of)
                framework_of.append(position)
            self.spans.append((first, len(self.keys)))
        self.framework_of = np.array(framework_of, dtype=int)  # each requirement's framework position
        self.label_classes = [label_class(framework, requirement) for framework, requirement in self.keys]
        self.frameworks = tuple(catalog.id for catalog, _ in catalogs)

    def decide(self, documents: Sequence[DocumentScores]) -> list[Classified]:
        """Which of these documents' scores are evidence, weighed against the whole collection."""
        settings = self.settings
        column = {key: i for i, key in enumerate(self.keys)}
        scores = np.zeros((len(documents), len(self.keys)), dtype=np.float64)
        for row, document in enumerate(documents):
            for item in document.candidates:
                scores[row, column[(item.framework, item.requirement)]] = item.score
        baseline = np.zeros(len(self.keys))
        for framework in self.frameworks:
            ours = np.array([fw == framework for fw, _ in self.keys])
            if documents and ours.any():
                baseline[ours] = self._baseline(scores[:, ours])
        lifted = scores - settings.baseline_weight * baseline
        # Python floats: indexing a NumPy row one score at a time costs more than the decision itself.
        return [self._decide_one(document, values, column)
                for document, values in zip(documents, lifted.tolist(), strict=True)]

    def _baseline(self, scores: np.ndarray) -> np.ndarray:
        """Each requirement's background in this collection: what the documents that are mainly
        about other requirements score for it. A folder of monthly audit reports does not raise the
        bar for internal audit; a software company's documents that all read a little like design
        and development do raise it for design and development."""
        settings = self.settings
        background = scores.copy()
        background[np.arange(len(scores)), scores.argmax(axis=1)] = np.nan
        counted = (~np.isnan(background)).sum(axis=0)
        overall = np.nanquantile(background, settings.baseline_quantile) if counted.any() else 0.0
        typical = np.zeros(scores.shape[1])
        some = counted > 0
        typical[some] = np.nanquantile(background[:, some], settings.baseline_quantile, axis=0)
        return (counted * typical + settings.baseline_prior * overall) / (counted + settings.baseline_prior)

    def _decide_one(self, document: DocumentScores, lifted: list[float], column: dict) -> Classified:
        settings = self.settings
        recorded = {(item.framework, item.requirement) for item in document.candidates
                    if document.activity
                    and document.activity in self.records_of[column[(item.framework, item.requirement)]]}
        in_scope = {f for f in self.frameworks if document.scope.margin(f) >= settings.scope_margin}
        kind = document.kind
        if recorded:
            pass  # a record of an activity is that activity's evidence whatever else it resembles
        elif kind.is_evidence and not in_scope and document.scope.regime:
            kind = Kind(OUT_OF_SCOPE, (f"mainly about {document.scope.regime.lower()}",) + kind.signals[:1])
        best: dict[str, float] = {}
        main_class: dict[str, str] = {}  # the label class (ISO clause, CMMI area) of each framework's best
        for item in document.candidates:
            position = column[(item.framework, item.requirement)]
            value = lifted[position]
            if value > best.get(item.framework, -1.0):
                best[item.framework] = value
                main_class[item.framework] = self.label_classes[position]
        record_frameworks = {framework for framework, _ in recorded}
        # What does not depend on the score is checked once per framework, not once per candidate.
        document_checks = {framework: self._document_checks(document, kind, other_record=framework in record_frameworks,
                                                            in_scope=framework in in_scope)
                           for framework in best}
        # The first check each framework's document checks fail (None: they all pass).
        document_failed = {framework: next((check for check in checks if not check.passed), None)
                           for framework, checks in document_checks.items()}
        decided = []
        for item in document.candidates:
            key = (item.framework, item.requirement)
            if key in recorded:
                record = Check("record rule", True, f"a record of {document.activity}")
                decided.append(_evidence(item, tag=True, decision=record.detail, checks=(record,)))
                continue
            position = column[key]
            sibling = self.label_classes[position] == main_class[item.framework]
            decided.append(self._decided(item, document_checks[item.framework], document_failed[item.framework],
                                         lifted[position], best[item.framework], sibling=sibling))
        return Classified(document.path, kind, tuple(decided))

    def _decided(self, item: Evidence, document_checks: tuple[Check, ...], document_failed: Check | None,
                 value: float, framework_best: float, *, sibling: bool) -> Evidence:
        """The candidate decided: a tag when every check passes; why, from the first that fails or
        else the last. Only that check's words are written here; the others (``explain`` shows
        them all) when the evidence's checks are read (:class:`_Checks`)."""
        checks = _Checks(self, document_checks, value, framework_best, sibling)
        if document_failed is not None:
            return _evidence(item, tag=False, decision=document_failed.detail, checks=checks)
        settings = self.settings
        share = settings.sibling_cutoff if sibling else settings.relative_cutoff
        if value < settings.evidence_floor:
            return _evidence(item, tag=False, decision=self._baseline_check(value).detail, checks=checks)
        main = self._main_check(value, framework_best, share * framework_best)
        return _evidence(item, tag=main.passed, decision=main.detail, checks=checks)

    def _document_checks(self, document: DocumentScores, kind: Kind, *, other_record: bool,
                         in_scope: bool) -> tuple[Check, ...]:
        """The first steps of the decision for a score that is not a record's own, those that depend
        only on the document and the framework. With ``_score_checks`` after them, in order: the first
        check that fails says why a score is not a tag; the last, when all pass, why it is one."""
        words, least = document.content_words, self.settings.min_content_words
        return (
            Check("record rule", not other_record,
                  f"a record of {document.activity}: its subject is a near miss" if other_record
                  else "not a record of another activity"),
            Check("kind", kind.is_evidence,
                  f"a {kind.kind.replace('_', ' ')} document "
                  + ("can be evidence" if kind.is_evidence else f"is never evidence ({'; '.join(kind.signals)})")),
            Check("own text", words >= least,
                  f"{words} words of its own (at least {least})" if words >= least
                  else f"too little text of its own ({words} words)"),
            Check("scope", in_scope,
                  "within this framework's scope" if in_scope else
                  f"more about {(document.scope.regime or 'another regime').lower()} than about any requirement "
                  "of this framework"),
        )

    def _score_checks(self, value: float, framework_best: float, *, sibling: bool) -> tuple[Check, ...]:
        """The last steps of the decision, on the score itself. ``sibling``: the requirement belongs
        to the clause or practice area of the document's best one."""
        settings = self.settings
        share = settings.sibling_cutoff if sibling else settings.relative_cutoff
        return self._baseline_check(value), self._main_check(value, framework_best, share * framework_best)

    def _baseline_check(self, value: float) -> Check:
        floor = self.settings.evidence_floor
        return Check("baseline", value >= floor,
                     f"{value:+.2f} against this folder's baseline for it"
                     + (f" (at least {floor:.2f} needed)" if value >= floor else f", below {floor:.2f}"))

    @staticmethod
    def _main_check(value: float, framework_best: float, cutoff: float) -> Check:
        if value >= cutoff:
            main = f"{value:+.2f} against this folder's baseline; what the document is mainly about"
        else:  # three decimals: a requirement a hair below the best must not read as equal to it
            main = ("not what the document is mainly about "
                    f"({value:+.3f} against this folder's baseline; its best requirement has {framework_best:+.3f})")
        return Check("main subject", value >= cutoff, main)


class _Checks(Sequence[Check]):
    """A decided candidate's checks, in order, written out when first read: a report reads only
    the decision (``Evidence.decision``), and a collection has hundreds of thousands of candidates.
    Equal to the tuple of the same checks."""

    __slots__ = ("_built", "_decider", "_document_checks", "_framework_best", "_sibling", "_value")

    def __init__(self, decider: Decider, document_checks: tuple[Check, ...], value: float, framework_best: float,
                 sibling: bool):
        self._decider, self._document_checks = decider, document_checks
        self._value, self._framework_best, self._sibling = value, framework_best, sibling
        self._built: tuple[Check, ...] | None = None

    def _checks(self) -> tuple[Check, ...]:
        if self._built is None:
            self._built = self._document_checks + self._decider._score_checks(  # noqa: SLF001 - its own decider's
                self._value, self._framework_best, sibling=self._sibling)
        return self._built

    def __getitem__(self, index):
        return self._checks()[index]

    def __len__(self) -> int:
        return len(self._checks())

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Checks):
            other = other._checks()
        return self._checks() == other if isinstance(other, tuple) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._checks())

    def __repr__(self) -> str:
        return repr(self._checks())

    def __reduce__(self):
        """Pickled or copied, the checks are a plain tuple."""
        return (tuple, (self._checks(),))


def _evidence(item: Evidence, *, tag: bool, decision: str, checks: Sequence[Check]) -> Evidence:
    """The candidate with its decision. Built directly: ``dataclasses.replace`` costs more, once
    per candidate."""
    return Evidence(item.path, item.framework, item.requirement, item.score, locator=item.locator,
                    terms=item.terms, tag=tag, decision=decision, checks=checks)  # type: ignore[arg-type]
