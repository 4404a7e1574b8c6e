"""Training and evaluation over a labelled corpus: the work behind ``gapscan train`` and
``gapscan eval``, including the gap-detection check (remove a requirement's documents; the report
must then show that requirement as a gap while the rest stays covered)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from gapscan.classifiers.doctype import document_kind
from gapscan.classifiers.evaluate import Evaluation, cross_validate, fit
from gapscan.classifiers.evidence import Evidence
from gapscan.classifiers.labels import Labelled, label_class, load_labels, training_hash
from gapscan.classifiers.models import catalog_versions, default_model
from gapscan.classifiers.supervised import SupervisedModel
from gapscan.mappings import Catalog
from gapscan.reports.assess import AssessmentInputs, Thresholds, assess
from gapscan.classifiers.tfidf import TaggerSettings
from gapscan.scanner.config import Config
from gapscan.scanner.documents import Extract
from gapscan.scanner.pipeline import Progress, Scanner


@dataclass(frozen=True)
class Corpus:
    root: Path
    catalogs: list[tuple[Catalog, int | None]]
    labelled: list[Labelled]
    extracts: dict[str, Extract]  # every readable document, labelled or not

    @property
    def missing(self) -> list[str]:
        """Labelled (not excluded) paths that could not be read."""
        return [i.path for i in self.labelled if not i.exclude and i.path not in self.extracts]


def read_corpus(root: Path, labels: Path, config: Config, index_path: Path | None, jobs: int | None,
                progress: Progress | None = None) -> Corpus:
    labelled = load_labels(labels)
    with Scanner(root, config, index_path=index_path, jobs=jobs, progress=progress) as scanner:
        scanner.sync()
        extracts = {p: r for p, r in scanner.results.items() if isinstance(r, Extract)}
        return Corpus(root.resolve(), scanner.catalogs, labelled, extracts)


def train_model(corpus: Corpus) -> SupervisedModel:
    hashes = {p: e.document.sha256 for p, e in corpus.extracts.items()}
    info = {
        "training_hash": training_hash(corpus.labelled, hashes),
        "catalogs": catalog_versions(corpus.catalogs),
        "corpus": corpus.root.name,
    }
    return fit(corpus.labelled, corpus.extracts, info)


def evaluate(corpus: Corpus, cv: str) -> Evaluation:
    model = default_model() if cv == "none" else None
    return cross_validate(corpus.catalogs, corpus.labelled, corpus.extracts, cv=cv, default_model=model)


@dataclass(frozen=True)
class GapCheck:
    framework: str
    label: str
    removed: int  # labelled documents taken away
    covered_before: bool  # some requirement of the label was covered with every document present
    detected: bool  # the label's requirements all came out missing or partial
    collateral: tuple[str, ...]  # requirements that were covered, still have evidence, but lost "covered"


def gap_detection(corpus: Corpus, evaluation: Evaluation, minimum: int = 2) -> list[GapCheck]:
    """For every label with at least ``minimum`` labelled documents: assess the corpus without those
    documents, using the evidence each document got from the model that never saw its source."""
    settings = TaggerSettings()
    thresholds = Thresholds(settings.threshold, settings.weak_threshold, settings.near_miss_floor)
    dates = {p: (e.metadata.modified or e.metadata.created or "")[:10] for p, e in corpus.extracts.items()}
    kinds = {p: document_kind(p, e.metadata.title) for p, e in corpus.extracts.items()}
    inputs = AssessmentInputs(dates, kinds, date.today())
    rows = [i for i in corpus.labelled if not i.exclude and i.path in corpus.extracts]
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in rows:
        for framework, labels in item.labels.items():
            for label in labels:
                members[(framework, label)].add(item.path)

    checks = []
    for catalog, level in corpus.catalogs:
        everything = list(evaluation.evidence)
        baseline = {v.id: v for v in assess(catalog, level, everything, inputs, thresholds).verdicts}
        for (framework, label), paths in sorted(members.items()):
            if framework != catalog.id or len(paths) < minimum:
                continue
            remaining: list[Evidence] = [e for e in everything if e.path not in paths]
            verdicts = assess(catalog, level, remaining, inputs, thresholds).verdicts
            ours = [v for v in verdicts if label_class(framework, v.id) == label]
            detected = bool(ours) and all(v.status in ("missing", "partial") for v in ours)
            still_evidenced = {e.requirement for e in remaining if e.framework == framework and e.tag}
            collateral = tuple(
                v.id for v in verdicts
                if label_class(framework, v.id) != label and baseline[v.id].status == "covered"
                and v.status != "covered" and v.id in still_evidenced
            )
            covered_before = any(baseline[v.id].status == "covered" for v in ours)
            checks.append(GapCheck(framework, label, len(paths), covered_before, detected, collateral))
    return checks


def format_evaluation(evaluation: Evaluation) -> str:
    lines = []
    for framework in evaluation.frameworks:
        micro, macro = framework.micro, framework.macro
        lines += [
            f"{framework.framework}: {framework.documents} documents ({framework.negatives} with no label), "
            f"cv={evaluation.cv}, threshold {evaluation.threshold:.2f}",
            f"  micro  precision {micro[0]:.3f}  recall {micro[1]:.3f}  F1 {micro[2]:.3f}",
            f"  macro  precision {macro[0]:.3f}  recall {macro[1]:.3f}  F1 {macro[2]:.3f}",
            f"  false tags per unlabelled document: {framework.false_tags_per_negative:.2f}",
            f"  {'label':8} {'support':>7} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>6} {'F1':>6}",
        ]
        for c in framework.classes:
            lines.append(
                f"  {c.label:8} {c.support:7d} {c.tp:4d} {c.fp:4d} {c.fn:4d} {c.precision:9.2f} {c.recall:6.2f} {c.f1:6.2f}"
            )
    return "\n".join(lines)


def format_gap_detection(checks: list[GapCheck]) -> str:
    if not checks:
        return "gap detection: no label has enough documents"
    lines = []
    for framework in sorted({c.framework for c in checks}):
        ours = [c for c in checks if c.framework == framework]
        meaningful = [c for c in ours if c.covered_before]
        detected = sum(c.detected for c in meaningful)
        clean = sum(c.detected and not c.collateral for c in meaningful)
        lines.append(
            f"gap detection {framework}: of {len(ours)} labels with 2+ documents, {len(meaningful)} were covered "
            f"with every document present; removing their documents turned {detected} into gaps "
            f"({clean} with no other still-evidenced requirement losing coverage)"
        )
        for check in ours:
            mark = "ok  " if check.detected else "MISS"
            before = "" if check.covered_before else " (not covered even before removal)"
            extra = f"; also lost: {', '.join(check.collateral)}" if check.collateral else ""
            lines.append(f"  {mark} {check.label:6} ({check.removed} documents removed){before}{extra}")
    return "\n".join(lines)
