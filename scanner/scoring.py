"""Scores cached by content: the fingerprint of everything besides a document that changes its
scores (``Tagger.score``), their stored form, and the scorer that extraction workers run next to
extraction.

A document's scores depend on its path (the file name and folder are read as its header), its
extract (content hash and extractor version) and on the classifier: its code and settings, the
catalogs and their translated profiles, the regimes, and the supervised model. The fingerprint
hashes all of the latter, so a new model or catalog re-scores every document from the text in the
index, while an unchanged rescan scores nothing.

Which scores are evidence is weighed over the whole collection (``Decider.decide``): a document
added or changed can change the decision for any other. What a report weighs of that decision is
kept too, under a key of everything it depends on (``decision_key``): the fingerprint, the
decision's code, and every document's path and content hash. A rescan of an unchanged collection
decides nothing; any other decides it all again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from sys import intern

from typing import TYPE_CHECKING

import numpy as np
from gapscan.classifiers.decision import Candidates, Decision, DocumentScores, TaggerSettings
from gapscan.classifiers.doctype import Kind
from gapscan.classifiers.scope import Scope
from gapscan.mappings import Catalog
from gapscan.scanner.common.documents import Extract
from gapscan.scanner.common.evidence import Evidence
from gapscan.scanner.extract import EXTRACTOR_VERSION

if TYPE_CHECKING:  # building a tagger needs scikit-learn, imported only when a document is scored
    from gapscan.classifiers.supervised import SupervisedModel
    from gapscan.classifiers.tfidf import Fitted, Tagger

# Package files whose bytes the scores depend on: the classifier's code and data, the catalogs,
# translated profiles and regimes that ship with gapscan.
_SCORING_PACKAGES = ("gapscan.classifiers", "gapscan.mappings")
_SCORING_SUFFIXES = (".py", ".toml", ".json", ".npz")
# Which scores are evidence is decided from the stored scores: the decision's code does not change
# a score (its settings do, and are hashed as ``settings``), so changing it does not re-score every
# document; it is part of the decision's key (``decision_key``) instead.
_NOT_SCORING = frozenset({("classifiers", "decision.py")})
# The stored form of scores (``stored_scores``): scores stored in another form are not read.
STORED_FORM = 3
# The stored form of a collection's decision (``stored_decision``), part of its key.
DECISION_FORM = 1


def fingerprint(catalogs: list[tuple[Catalog, int | None]], settings: TaggerSettings,
                supervised: SupervisedModel | None) -> str:
    """What, besides the document, its scores depend on, as a hex digest: the inputs of the tagger
    (``Tagger(catalogs, settings, supervised)``), so that it is known without building the tagger."""
    digest = hashlib.sha256()
    digest.update(f"extractor {EXTRACTOR_VERSION}\nstored {STORED_FORM}\n{settings!r}\n".encode())
    for package in _SCORING_PACKAGES:
        for path in sorted(_package_files(Path(str(resources.files(package))))):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    for catalog, level in catalogs:  # a user's own catalogs and profiles are files elsewhere
        # By content, not by where the files are: gapscan installed elsewhere (a new virtualenv, a
        # CI runner's checkout) scores the same.
        unplaced = tuple((language, "") for language, _ in catalog.translations)
        placeless = dataclasses.replace(catalog, source="", translations=unplaced)
        digest.update(repr((placeless, level)).encode("utf-8", "surrogateescape"))
        for _, translation in catalog.translations:
            try:
                digest.update(Path(translation).read_bytes())
            except OSError:
                digest.update(b"unreadable")  # the tagger says why when it first needs it
    if supervised is not None:
        for field in dataclasses.fields(supervised):
            value = getattr(supervised, field.name)
            digest.update(field.name.encode())
            if isinstance(value, np.ndarray):
                digest.update(f"{value.dtype}{value.shape}".encode())
                digest.update(np.ascontiguousarray(value).tobytes())
            else:
                digest.update(repr(value).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def decision_key(fingerprint: str, documents: Iterable[tuple[str, str]], near_misses: int) -> str:
    """What a collection's decision depends on, as a hex digest: the fingerprint of its documents'
    scores, the decision's code (which the fingerprint leaves out), how many near misses a report
    lists, and each document's path and content hash (of which, with the fingerprint, its scores
    are a function), in the order given."""
    digest = hashlib.sha256(f"{fingerprint}\ndecision {DECISION_FORM}\nnear misses {near_misses}\n".encode())
    digest.update(_decision_code())
    for path, sha256 in documents:
        digest.update(f"{path}\0{sha256}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@cache
def _decision_code() -> bytes:
    return b"".join(Path(str(resources.files(f"gapscan.{folder}"))).joinpath(name).read_bytes()
                    for folder, name in sorted(_NOT_SCORING))


def stored_decision(decision: Decision) -> bytes:
    """A collection's decision as stored: compressed JSON, in ASCII (a path may hold the lone
    surrogates of a name that is not UTF-8, which JSON escapes)."""
    return zlib.compress(json.dumps([
        [[path, kind.kind, list(kind.signals)] for path, kind in decision.kinds.items()],
        [[e.path, e.framework, e.requirement, e.score, e.locator, list(e.terms), e.tag, e.decision]
         for e in decision.evidence],
    ], separators=(",", ":")).encode("ascii"), 1)


def decision_from_stored(stored: bytes) -> Decision | None:
    """The decision as stored; None where it is not in the form this gapscan stores (it is then
    decided again)."""
    try:
        kinds, evidence = json.loads(zlib.decompress(stored))
        return Decision(
            {path: Kind(intern(kind), tuple(signals)) for path, kind, signals in kinds},
            [Evidence(path, intern(framework), requirement, score, locator, tuple(terms), tag, decision)
             for path, framework, requirement, score, locator, terms, tag, decision in evidence],
        )
    except (zlib.error, ValueError, TypeError):
        return None


def _package_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.suffix in _SCORING_SUFFIXES and "__pycache__" not in path.parts
            and (folder.name, path.name) not in _NOT_SCORING]


def stored_scores(scores: DocumentScores) -> bytes:
    """The scores as stored, without the path (the index row's key): what the decision reads (kind,
    scope, activity, words, and each candidate's requirement) as compressed JSON, each candidate's
    score as a little-endian double, then the candidates' sections and terms compressed apart (see
    :class:`Candidates`). Candidates are never decided yet (``Tagger.score``), so nothing of a
    decision is kept."""
    candidates = scores.candidates
    frameworks = list(dict.fromkeys(framework for framework, _ in candidates.keys))
    head = _pack([
        [scores.kind.kind, list(scores.kind.signals)],
        [scores.scope.regime, float(scores.scope.regime_similarity),
         [[framework, float(value)] for framework, value in scores.scope.frameworks]],
        scores.activity,
        scores.content_words,
        frameworks,
        [frameworks.index(framework) for framework, _ in candidates.keys],
        [requirement for _, requirement in candidates.keys],
    ])
    return len(head).to_bytes(4, "little") + head + _little_endian(array("d", candidates.scores)).tobytes() \
        + candidates.packed_details()


def scores_from_stored(path: str, stored: bytes) -> DocumentScores:
    start = 4 + int.from_bytes(stored[:4], "little")
    kind, scope, activity, words, frameworks, framework_of, requirements = json.loads(zlib.decompress(stored[4:start]))
    end = start + 8 * len(requirements)
    values = _little_endian(array("d", stored[start:end]))
    return DocumentScores(
        path=path,
        # Held for every document until the report: the words that repeat across them, once.
        kind=Kind(intern(kind[0]), tuple(map(intern, kind[1]))),
        scope=Scope(scope[0] and intern(scope[0]), scope[1],
                    tuple((intern(framework), similarity) for framework, similarity in scope[2])),
        activity=activity and intern(activity),
        content_words=words,
        candidates=Candidates(path, ((frameworks[f], r) for f, r in zip(framework_of, requirements, strict=True)),
                              values, stored[end:]),
    )


class HeldScores(MutableMapping[str, DocumentScores]):
    """Documents' scores by path. Scores held as stored (``hold``), with the frameworks each
    counts for, are read when first asked for: a rescan whose decision the index keeps asks for
    none."""

    def __init__(self) -> None:
        self._held: dict[str, DocumentScores | tuple[bytes, frozenset[str]]] = {}

    def hold(self, path: str, stored: bytes, frameworks: frozenset[str]) -> None:
        """Hold a document's scores as stored, for these frameworks only."""
        self._held[path] = (stored, frameworks)

    def __getitem__(self, path: str) -> DocumentScores:
        held = self._held[path]
        if isinstance(held, tuple):
            stored, frameworks = held
            scores = scores_from_stored(path, stored)
            held = self._held[path] = dataclasses.replace(scores, candidates=scores.candidates.only(frameworks))
        return held

    def __setitem__(self, path: str, scores: DocumentScores) -> None:
        self._held[path] = scores

    def __delitem__(self, path: str) -> None:
        del self._held[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)


def _little_endian(values: array) -> array:
    """Doubles as stored (little-endian) from this machine's order, or back: the same swap."""
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _pack(value: object) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


@dataclass(frozen=True)
class Scorer:
    """Scores extracts as the tagger it was made from does, wherever it runs: in the extraction
    workers (handed over once, as each starts) or on a cluster's workers. It carries the tagger's
    inputs, and the profiles the sending process has fitted (a worker would take a quarter of a
    second to fit them again, and workers are replaced every few hundred files); each process
    builds the tagger once (a forked worker inherits the caller's)."""

    catalogs: tuple[tuple[Catalog, int | None], ...]
    settings: TaggerSettings
    supervised: SupervisedModel | None
    fingerprint: str

    # What a worker imports to score: a fork server loads it once for all its workers.
    preload = (__name__, "gapscan.classifiers.tfidf")

    def tagger(self, fitted: Fitted | None = None) -> Tagger:
        if self.fingerprint not in _TAGGERS:
            from gapscan.classifiers.tfidf import Tagger  # noqa: PLC0415  (see TYPE_CHECKING above)

            _TAGGERS[self.fingerprint] = Tagger(list(self.catalogs), self.settings, self.supervised, fitted)
        return _TAGGERS[self.fingerprint]

    def prepare(self) -> None:
        """Build this process's tagger now (a worker, as it starts), with its scope model in each
        catalog's own language (otherwise built by the first document scored in it), not while the
        first document's time limit runs."""
        tagger = self.tagger()
        for language in dict.fromkeys(catalog.languages[0] for catalog, _ in self.catalogs):
            tagger._scope(language)  # noqa: SLF001 - the tagger builds it on first use; here that is the point

    def __call__(self, extract: Extract) -> bytes:
        return stored_scores(self.tagger().score(extract))

    def __reduce__(self):
        """Pickled with the model's fields (the model's term counter holds a cache that does not
        pickle; the model builds it anew) and, where this process has built the tagger, with its
        profiles and scope models."""
        model = self.supervised and {f.name: getattr(self.supervised, f.name)
                                     for f in dataclasses.fields(self.supervised) if f.init}
        fitted = None
        if self.fingerprint in _TAGGERS:
            self.prepare()
            fitted = _TAGGERS[self.fingerprint].fitted()
        return (_scorer, (self.catalogs, self.settings, model, self.fingerprint, fitted))


def _scorer(catalogs, settings: TaggerSettings, model: dict | None, fingerprint: str,
            fitted: Fitted | None = None) -> Scorer:
    from gapscan.classifiers.supervised import SupervisedModel  # noqa: PLC0415

    scorer = Scorer(catalogs, settings, SupervisedModel(**model) if model is not None else None, fingerprint)
    if fitted is not None:
        scorer.tagger(fitted)
    return scorer


# The tagger of each fingerprint this process scores with (see Scorer.tagger).
_TAGGERS: dict[str, Tagger] = {}
