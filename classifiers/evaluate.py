"""Measuring the classifier against labelled documents.

Tags are compared with labels at label granularity (ISO clause at level 2, CMMI practice area).
With ``cv="source"`` each source family (the first folder of a path: one organisation) is scored
by a model trained on all the others, so no document is scored by a model that saw its siblings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from gapscan.classifiers.analysis import analyzer
from gapscan.classifiers.doctype import Kind
from gapscan.scanner.common.evidence import Evidence
from gapscan.classifiers.labels import Labelled, label_class
from gapscan.classifiers.supervised import SupervisedModel, TrainingSettings, train
from gapscan.classifiers.tfidf import Classified, Tagger, TaggerSettings, document_text
from gapscan.mappings import Catalog
from gapscan.scanner.common.languages import told
from gapscan.scanner.common.documents import Extract


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int  # labelled documents
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


@dataclass(frozen=True)
class FrameworkScore:
    framework: str
    documents: int
    negatives: int  # documents with an empty label set
    false_tags_on_negatives: int
    classes: tuple[ClassScore, ...]

    @property
    def micro(self) -> tuple[float, float, float]:
        tp = sum(c.tp for c in self.classes)
        fp = sum(c.fp for c in self.classes)
        fn = sum(c.fn for c in self.classes)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return precision, recall, _f1(precision, recall)

    @property
    def macro(self) -> tuple[float, float, float]:
        """Averaged over the classes that have labelled documents."""
        scored = [c for c in self.classes if c.support]
        if not scored:
            return 0.0, 0.0, 0.0
        return tuple(sum(getattr(c, m) for c in scored) / len(scored) for m in ("precision", "recall", "f1"))

    @property
    def false_tags_per_negative(self) -> float:
        return _ratio(self.false_tags_on_negatives, self.negatives)

    def as_dict(self) -> dict:
        return {
            "framework": self.framework,
            "documents": self.documents,
            "micro": dict(zip(("precision", "recall", "f1"), _rounded(self.micro), strict=True)),
            "macro": dict(zip(("precision", "recall", "f1"), _rounded(self.macro), strict=True)),
            "negatives": self.negatives,
            "false_tags_per_negative": round(self.false_tags_per_negative, 3),
            "classes": [
                {"label": c.label, "support": c.support, "tp": c.tp, "fp": c.fp, "fn": c.fn,
                 "precision": round(c.precision, 3), "recall": round(c.recall, 3), "f1": round(c.f1, 3)}
                for c in self.classes
            ],
        }


@dataclass(frozen=True)
class Evaluation:
    cv: str
    frameworks: tuple[FrameworkScore, ...]
    evidence: tuple[Evidence, ...] = field(default=(), repr=False)  # every scored document's evidence
    kinds: dict[str, Kind] = field(default_factory=dict, repr=False)  # every scored document's kind

    def as_dict(self) -> dict:
        return {"cv": self.cv, "frameworks": [f.as_dict() for f in self.frameworks]}


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _rounded(values) -> list[float]:
    return [round(v, 3) for v in values]


def fit(labelled: list[Labelled], extracts: dict[str, Extract], info: dict,
        settings: TrainingSettings | None = None, remembered: RememberedTerms | None = None) -> SupervisedModel:
    """Train on the labelled documents that were read (rows marked ``exclude`` are left out), in
    the language most of them are written in: the model reads that language's terms, and documents
    in other languages are scored by the catalog profiles alone."""
    usable = [item for item in labelled if not item.exclude and item.path in extracts]
    if not usable:
        raise ValueError("no labelled document could be read: check the paths in the labels file")
    written_in = Counter(told(extracts[item.path].language, "en") for item in usable)
    language = written_in.most_common(1)[0][0]
    usable = [item for item in usable if told(extracts[item.path].language, "en") == language]
    texts = [document_text(extracts[item.path]) for item in usable]
    terms = remembered.of(language) if remembered is not None else None
    return train(texts, [item.labels for item in usable], info, settings, language, terms=terms)


class RememberedTerms:
    """Each text's terms, analysed once for every fold of a cross-validation that trains on it."""

    def __init__(self) -> None:
        self._terms: dict[tuple[str, str], list[str]] = {}

    def of(self, language: str) -> Callable[[str], list[str]]:
        analyze = analyzer(language).terms

        def terms(text: str) -> list[str]:
            found = self._terms.get((language, text))
            if found is None:
                found = self._terms[(language, text)] = analyze(text)
            return found

        return terms


def predictions(evidence: list[Evidence]) -> dict[tuple[str, str], set[str]]:
    """(path, framework) -> the label classes the classifier tagged."""
    tagged: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in evidence:
        if item.tag:
            tagged[(item.path, item.framework)].add(label_class(item.framework, item.requirement))
    return tagged


def score(labelled: list[Labelled], evidence: list[Evidence], frameworks: list[str]) -> list[FrameworkScore]:
    tagged = predictions(evidence)
    results = []
    for framework in frameworks:
        rows = [item for item in labelled if framework in item.labels]
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # support, tp, fp, fn
        negatives = false_on_negatives = 0
        for item in rows:
            gold = item.labels[framework]
            predicted = tagged.get((item.path, framework), set())
            for label in gold:
                counts[label][0] += 1
                counts[label][1 if label in predicted else 3] += 1
            for label in predicted - gold:
                counts[label][2] += 1
            if not gold:
                negatives += 1
                false_on_negatives += len(predicted)
        classes = tuple(ClassScore(label, *counts[label]) for label in sorted(counts, key=_natural))
        results.append(FrameworkScore(framework, len(rows), negatives, false_on_negatives, classes))
    return results


def _natural(label: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in label.replace(" ", ".").split("."))


def cross_validate(
    catalogs: list[tuple[Catalog, int | None]],
    labelled: list[Labelled],
    extracts: dict[str, Extract],
    *,
    cv: str = "source",
    tagger_settings: TaggerSettings | None = None,
    training: TrainingSettings | None = None,
    default_model: SupervisedModel | None = None,
) -> Evaluation:
    """Score every readable, non-excluded labelled document.

    Each source family is classified as a scan of its own folder would classify it: the collection
    its scores are weighed against is every readable document of that source, labelled or not
    (``extracts`` are keyed by their path in the corpus; their documents may name them as the
    source's own folder does). ``cv="source"``: each source is scored by a model trained on all the
    others; ``cv="none"``: by ``default_model`` as it is (with None, the catalog profiles alone: the cold start)."""
    if cv not in ("source", "none"):
        raise ValueError(f"unknown cross-validation {cv!r}: use 'source' or 'none'")
    rows = [item for item in labelled if not item.exclude and item.path in extracts]
    classified: list[Classified] = []
    remembered = RememberedTerms()
    for source in sorted({item.source for item in rows}):
        model: SupervisedModel | None
        if cv == "source":
            model = fit([item for item in rows if item.source != source], extracts, {"fold": source}, training,
                        remembered)
        else:
            model = default_model
        tagger = Tagger(catalogs, tagger_settings, model)
        ours = [path for path in extracts if path.split("/", 1)[0] == source]
        scored = [tagger.score(extracts[path]) for path in ours]
        for path, result in zip(ours, tagger.decide(scored), strict=True):
            classified.append(replace(result, path=path,
                                      evidence=tuple(replace(e, path=path) for e in result.evidence)))
    frameworks = [catalog.id for catalog, _ in catalogs]
    evidence = [e for result in classified for e in result.evidence]
    return Evaluation(cv, tuple(score(rows, evidence, frameworks)), tuple(evidence),
                      {result.path: result.kind for result in classified})
