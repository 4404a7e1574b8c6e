"""Which of a collection's scores are evidence (``Decider.decide``), and the types classification
hands on: the decision needs only the catalogs' requirements and the settings, not the fitted
profiles or the supervised model, so a rescan whose scores are all cached never builds those
(``Tagger`` in classifiers/tfidf.py scores; see the module's docstring for the two steps)."""

from __future__ import annotations

import json
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class DocumentScores:
    """What classification says about one document on its own (``Tagger.score``)."""

    path: str
    kind: Kind
    scope: Scope
    activity: str | None  # the activity the document is a record of ("training"), by its name
    content_words: int
    candidates: Candidates  # every requirement scoring at least the near-miss floor, untagged


class _WrittenWhenRead(Sequence[Evidence]):
    """Evidence held in another form and written out (``written``) only where it is read; equal
    to the tuple of the same evidence."""

    __slots__ = ()

    def written(self, indices: Sequence[int]) -> list[Evidence]:
        raise NotImplementedError

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self)[index]
        return self.written([range(len(self))[index]])[0]

    def __iter__(self) -> Iterator[Evidence]:
        return iter(self.written(range(len(self))))

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({tuple(self)!r})"


# The requirement keys of every document's candidates, held once (see Candidates).
_KEYS: dict[tuple[str, str], tuple[str, str]] = {}


class Candidates(_WrittenWhenRead):
    """A document's candidates, held compactly: a collection's decision reads only each one's
    requirement (``keys``) and score (``scores``), so those are all that is held as values; the
    section and terms behind each (``details``) are kept compressed and read where a candidate is
    written out as :class:`Evidence` (a report writes out a few of a document's dozens). Equal to
    the tuple of the same evidence."""

    __slots__ = ("_details", "keys", "path", "scores")

    def __init__(self, path: str, keys: Iterable[tuple[str, str]], scores: Iterable[float],
                 details: bytes | tuple[tuple[str, tuple[str, ...]], ...]):
        self.path = path
        self.keys = tuple(_KEYS.setdefault(key, key) for key in keys)  # (framework, requirement)
        self.scores = array("d", scores)
        self._details = details  # (locator, terms) of each candidate, or those as compressed JSON

    @classmethod
    def of(cls, path: str, evidence: Iterable[Evidence]) -> Candidates:
        items = tuple(evidence)
        return cls(path, ((e.framework, e.requirement) for e in items), (e.score for e in items),
                   tuple((e.locator, tuple(e.terms)) for e in items))

    def details(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each candidate's locator and terms."""
        return tuple((locator, tuple(terms)) for locator, terms in self._details_at(range(len(self))))

    def _details_at(self, indices: Iterable[int]) -> list[Sequence]:
        """The locator and terms of the candidates at these positions, as held (read from JSON:
        lists); only those are decoded."""
        if isinstance(self._details, bytes):
            lines = zlib.decompress(self._details).split(b"\n")
            return [json.loads(lines[index]) for index in indices]
        return [self._details[index] for index in indices]

    def packed_details(self) -> bytes:
        """The details as stored: each candidate's as JSON on a line of its own, compressed."""
        if isinstance(self._details, bytes):
            return self._details
        return zlib.compress(b"\n".join(json.dumps(detail, ensure_ascii=False, separators=(",", ":")).encode()
                                         for detail in self._details))

    def only(self, frameworks: Iterable[str]) -> Candidates:
        """The candidates for these frameworks."""
        wanted = set(frameworks)
        kept = [i for i, (framework, _) in enumerate(self.keys) if framework in wanted]
        if len(kept) == len(self.keys):
            return self
        details = self.details()
        return Candidates(self.path, (self.keys[i] for i in kept), (self.scores[i] for i in kept),
                          tuple(details[i] for i in kept))

    def written(self, indices: Sequence[int]) -> list[Evidence]:
        """The candidates at these positions as evidence, their details read once."""
        return [self._evidence(index, detail) for index, detail in zip(indices, self._details_at(indices), strict=True)]

    def _evidence(self, index: int, detail: Sequence) -> Evidence:
        framework, requirement = self.keys[index]
        return Evidence(self.path, framework, requirement, self.scores[index], detail[0], tuple(detail[1]))

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True, slots=True)
class Classified:
    """A document's kind and evidence once the collection is weighed (``Tagger.decide``); each
    piece of evidence says in ``decision`` why it is, or is not, a tag."""

    path: str
    kind: Kind
    evidence: Sequence[Evidence]  # one for each candidate, in the same order



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
        self.column = {key: i for i, key in enumerate(self.keys)}
        self.label_classes = [label_class(framework, requirement) for framework, requirement in self.keys]
        self.frameworks = tuple(catalog.id for catalog, _ in catalogs)

    def decide(self, documents: Sequence[DocumentScores]) -> list[Classified]:
        """Which of these documents' scores are evidence, weighed against the whole collection."""
        column = self.column
        positions = [[column[key] for key in document.candidates.keys] for document in documents]
        # Every candidate's document, requirement and score, flat: a framework's scores are laid
        # out as a matrix only while its baseline is weighed, one framework at a time.
        rows = np.repeat(np.arange(len(documents)), [len(columns) for columns in positions])
        cols = np.fromiter((c for columns in positions for c in columns), dtype=np.intp, count=len(rows))
        values = np.concatenate([np.frombuffer(document.candidates.scores) for document in documents] or [np.zeros(0)])
        baseline = np.zeros(len(self.keys))
        for first, end in self.spans:
            if not documents or first == end:
                continue
            ours = (cols >= first) & (cols < end)
            scores = np.zeros((len(documents), end - first))
            scores[rows[ours], cols[ours] - first] = values[ours]
            baseline[first:end] = self._baseline(scores)
        # Each score lifted above (or sunk below) its baseline, as Python floats a document at a
        # time: indexing NumPy one score at a time costs more than the decision itself.
        lift = (self.settings.baseline_weight * baseline).tolist()
        return [self._decide_one(document, [score - lift[c]
                                            for score, c in zip(document.candidates.scores, columns, strict=True)])
                for document, columns in zip(documents, positions, strict=True)]

    def _baseline(self, scores: np.ndarray) -> np.ndarray:
        """Each requirement's background in this collection: what the documents that are mainly
        about other requirements score for it. A folder of monthly audit reports does not raise the
        bar for internal audit; a software company's documents that all read a little like design
        and development do raise it for design and development. ``scores`` (a framework's, documents
        by requirements) is used up as it is weighed, not copied."""
        settings = self.settings
        scores[np.arange(len(scores)), scores.argmax(axis=1)] = np.nan  # what each document is mainly about
        counted = (~np.isnan(scores)).sum(axis=0)
        typical = np.zeros(scores.shape[1])
        some = counted > 0
        if some.any():
            typical[some] = np.nanquantile(scores if some.all() else scores[:, some], settings.baseline_quantile,
                                           axis=0)
        overall = np.nanquantile(scores, settings.baseline_quantile, overwrite_input=True) if some.any() else 0.0
        return (counted * typical + settings.baseline_prior * overall) / (counted + settings.baseline_prior)

    def _decide_one(self, document: DocumentScores, values: list[float]) -> Classified:
        """The document's kind and which of its candidates are tags; each candidate's decision, in
        words, is written when it is read (:class:`_Decided`)."""
        weighed = self._weigh(document, values)
        keys = document.candidates.keys
        tags = bytes(self._is_tag(weighed, key, value) for key, value in zip(keys, values, strict=True))
        return Classified(document.path, weighed.kind, _Decided(self, document, array("d", values), tags))

    def _weigh(self, document: DocumentScores, values: Sequence[float]) -> _Weighed:
        """What the decision of each of the document's candidates depends on besides its own score
        (``values``: each candidate's score against its baseline)."""
        settings = self.settings
        column = self.column
        keys = document.candidates.keys
        activity = document.activity
        recorded = {key for key in keys if activity in self.records_of[column[key]]} if activity else set()
        in_scope = {f for f in self.frameworks if document.scope.margin(f) >= settings.scope_margin}
        kind = document.kind
        if recorded:
            pass  # a record of an activity is that activity's evidence whatever else it resembles
        elif kind.is_evidence and not in_scope and document.scope.regime:
            kind = Kind(OUT_OF_SCOPE, (f"mainly about {document.scope.regime.lower()}",) + kind.signals[:1])
        best: dict[str, float] = {}
        main_class: dict[str, str] = {}  # the label class (ISO clause, CMMI area) of each framework's best
        for key, value in zip(keys, values, strict=True):
            framework = key[0]
            if value > best.get(framework, -1.0):
                best[framework] = value
                main_class[framework] = self.label_classes[column[key]]
        record_frameworks = {framework for framework, _ in recorded}
        # What does not depend on the score is judged once per framework, not once per candidate.
        enough_words = document.content_words >= settings.min_content_words
        document_passes = {framework: framework not in record_frameworks and kind.is_evidence and enough_words
                           and framework in in_scope for framework in best}
        return _Weighed(kind, recorded, record_frameworks, in_scope, best, main_class, document_passes)

    def _is_tag(self, weighed: _Weighed, key: tuple[str, str], value: float) -> bool:
        """Whether every check of :meth:`_decided` passes, without writing them."""
        if key in weighed.recorded:
            return True
        framework = key[0]
        if not weighed.document_passes[framework]:
            return False
        return value >= self.settings.evidence_floor and value >= self._share(weighed, key) * weighed.best[framework]

    def _share(self, weighed: _Weighed, key: tuple[str, str]) -> float:
        """How much of the framework's best score the candidate needs: less for the other
        requirements of the best one's clause or practice area."""
        sibling = self.label_classes[self.column[key]] == weighed.main_class[key[0]]
        return self.settings.sibling_cutoff if sibling else self.settings.relative_cutoff

    def _decided(self, document: DocumentScores, weighed: _Weighed, item: Evidence, value: float) -> Evidence:
        """The candidate decided: a tag when every check passes; why, from the first that fails or
        else the last. Only that check's words are written here; the others (``explain`` shows
        them all) when the evidence's checks are read (:class:`_Checks`)."""
        if (item.framework, item.requirement) in weighed.recorded:
            record = Check("record rule", True, f"a record of {document.activity}")
            return _evidence(item, tag=True, decision=record.detail, checks=(record,))
        framework_best = weighed.best[item.framework]
        cutoff = self._share(weighed, (item.framework, item.requirement)) * framework_best
        document_checks = weighed.document_checks.get(item.framework)
        if document_checks is None:  # the same for each of the document's candidates in the framework
            document_checks = weighed.document_checks[item.framework] = self._document_checks(
                document, weighed.kind, other_record=item.framework in weighed.record_frameworks,
                in_scope=item.framework in weighed.in_scope)
        checks = _Checks(self, document_checks, value, framework_best, cutoff)
        if not weighed.document_passes[item.framework]:
            failed = next(check for check in document_checks if not check.passed)
            return _evidence(item, tag=False, decision=failed.detail, checks=checks)
        if value < self.settings.evidence_floor:
            return _evidence(item, tag=False, decision=self._baseline_check(value).detail, checks=checks)
        main = self._main_check(value, framework_best, cutoff)
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

    def _score_checks(self, value: float, framework_best: float, cutoff: float) -> tuple[Check, ...]:
        """The last steps of the decision, on the score itself (``cutoff``: see :meth:`_share`)."""
        return self._baseline_check(value), self._main_check(value, framework_best, cutoff)

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


@dataclass(frozen=True)
class _Weighed:
    """What the decision of a document's candidates depends on besides each one's own score."""

    kind: Kind
    recorded: set[tuple[str, str]]  # the requirements the document is a record for
    record_frameworks: set[str]  # the frameworks of those
    in_scope: set[str]  # the frameworks whose scope the document is in
    best: dict[str, float]  # each framework's best score against its baseline
    main_class: dict[str, str]  # the label class (ISO clause, CMMI area) of each framework's best
    # Whether the document passes each framework's checks that do not depend on the score
    # (``Decider._document_checks``, written out only for the candidates a report reads).
    document_passes: dict[str, bool]
    # Those checks written out, by framework, once a candidate in it is read.
    document_checks: dict[str, tuple[Check, ...]] = field(default_factory=dict)


class _Decided(_WrittenWhenRead):
    """A document's candidates decided, each written out (:meth:`Decider._decided`) when it is
    read: a report reads the tags and a few near misses (:func:`reported`) of a collection's hundreds
    of thousands of candidates, ``explain`` the candidates of one document."""

    __slots__ = ("_decider", "_document", "_values", "tags")

    def __init__(self, decider: Decider, document: DocumentScores, values: array, tags: bytes):
        self._decider, self._document, self._values = decider, document, values
        self.tags = tags  # 1 where the candidate at that position is a tag

    @property
    def candidates(self) -> Candidates:
        """The candidates undecided."""
        return self._document.candidates

    def written(self, indices: Sequence[int]) -> list[Evidence]:
        """The candidates at these positions decided."""
        weighed = self._decider._weigh(self._document, self._values)  # noqa: SLF001 - its own decider's
        items = self._document.candidates.written(indices)
        return [self._decider._decided(self._document, weighed, item, self._values[index])  # noqa: SLF001
                for index, item in zip(indices, items, strict=True)]

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class Decision:
    """What a report weighs of a collection once it is decided: each readable document's kind, by
    path, and the evidence :func:`reported` chooses."""

    kinds: dict[str, Kind]
    evidence: list[Evidence]


def reported(classified: Iterable[Classified], near_misses: int) -> list[Evidence]:
    """What a gap report weighs of a collection's decided candidates: every tag, and for each
    requirement the ``near_misses`` best candidates that are not tags (by score, then path: the
    order a report lists them in). Only these are written out, without the checks behind each
    decision (no report shows them; ``explain`` reads them from :class:`Classified`)."""
    documents = [document.evidence for document in classified]
    tags: list[tuple[int, int]] = []  # (document, candidate) positions
    closest: dict[tuple[str, str], list[tuple[float, str, int, int]]] = {}
    for number, decided in enumerate(documents):
        if isinstance(decided, _Decided):
            candidates = decided.candidates
            path, keys, scores, flags = candidates.path, candidates.keys, candidates.scores, decided.tags
        else:
            path = decided[0].path if decided else ""
            keys = tuple((e.framework, e.requirement) for e in decided)
            scores, flags = array("d", (e.score for e in decided)), bytes(e.tag for e in decided)
        for index, (key, score, tag) in enumerate(zip(keys, scores, flags, strict=True)):
            if tag:
                tags.append((number, index))
                continue
            near = closest.setdefault(key, [])
            near.append((-score, path, number, index))
            if len(near) > 4 * near_misses:  # keep the list short: the best few are all it is for
                near.sort(key=_rank)
                del near[near_misses:]
    misses = [(number, index) for near in closest.values()
              for _, _, number, index in sorted(near, key=_rank)[:near_misses]]
    wanted: dict[int, list[int]] = {}
    for number, index in tags + misses:
        wanted.setdefault(number, []).append(index)
    written: dict[tuple[int, int], Evidence] = {}
    for number, indices in wanted.items():  # each document's details read once
        decided = documents[number]
        items = decided.written(indices) if isinstance(decided, _Decided) else [decided[i] for i in indices]
        written.update(zip(((number, index) for index in indices), map(_unchecked, items), strict=True))
    return [written[position] for position in tags + misses]


def _rank(entry: tuple) -> tuple[float, str]:
    return entry[0], entry[1]


def _unchecked(item: Evidence) -> Evidence:
    return _evidence(item, tag=item.tag, decision=item.decision, checks=())


class _Checks(Sequence[Check]):
    """A decided candidate's checks, in order, written out when first read: a report reads only
    the decision (``Evidence.decision``), and a collection has hundreds of thousands of candidates.
    Equal to the tuple of the same checks."""

    __slots__ = ("_built", "_cutoff", "_decider", "_document_checks", "_framework_best", "_value")

    def __init__(self, decider: Decider, document_checks: tuple[Check, ...], value: float, framework_best: float,
                 cutoff: float):
        self._decider, self._document_checks = decider, document_checks
        self._value, self._framework_best, self._cutoff = value, framework_best, cutoff
        self._built: tuple[Check, ...] | None = None

    def _checks(self) -> tuple[Check, ...]:
        if self._built is None:
            self._built = self._document_checks + self._decider._score_checks(  # noqa: SLF001 - its own decider's
                self._value, self._framework_best, self._cutoff)
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
