"""Training and evaluation over a labelled corpus: the work behind ``gapscan train`` and
``gapscan eval``, including the gap-detection check (remove a requirement's documents; the report
must then show that requirement as a gap while the rest stays covered)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from gapscan.classifiers.evaluate import Evaluation, FrameworkScore, cross_validate, fit, score
from gapscan.classifiers.labels import Labelled, label_class, load_labels, training_hash
from gapscan.classifiers.models import catalog_versions, default_model
from gapscan.classifiers.supervised import SupervisedModel
from gapscan.mappings import Catalog
from gapscan.reports.assess import AssessmentInputs, assess
from gapscan.scanner.config import Config
from gapscan.scanner.common.documents import Extract
from gapscan.scanner.common.status import Status
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


def read_corpus(root: Path, labels: Path, config: Config, *, index_path: Path | None, jobs: int | None,
                progress: Progress | None = None, languages: tuple[str, ...] = ()) -> Corpus:
    """Every readable document under ``root``; each source family (first folder) is one
    organisation, and its documents are named as a scan of that organisation's own folder names
    them (the corpus folder's name is not part of what it wrote). ``languages``: keep only the
    labelled rows whose ``lang`` column names one of these."""
    labelled = load_labels(labels)
    if languages:
        labelled = [item for item in labelled if set(item.languages) & set(languages)]
    with Scanner(root, config, index_path=index_path, jobs=jobs, progress=progress) as scanner:
        scanner.sync()
        extracts = {p: _within_source(r) for p, r in scanner.results.items() if isinstance(r, Extract)}
        return Corpus(root.resolve(), scanner.catalogs, labelled, extracts)


def _within_source(extract: Extract) -> Extract:
    inner = extract.document.path.split("/", 1)[-1]
    return replace(extract, document=replace(extract.document, path=inner))


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
    source: str
    framework: str
    label: str
    removed: int  # labelled documents taken away
    detected: bool  # the label's requirements all came out missing or partial
    kept: tuple[str, ...]  # the documents that still make it covered


def gap_detection(corpus: Corpus, evaluation: Evaluation) -> list[GapCheck]:
    """For each source and each label it evidences that is covered with all of its documents present:
    assess the source without the documents labelled with it. The label must become a gap. Each
    document's evidence is what the model that never saw its source gave it."""
    dates = {p: (e.metadata.modified or e.metadata.created or "")[:10] for p, e in corpus.extracts.items()}
    kinds = {p: kind.kind for p, kind in evaluation.kinds.items()}
    inputs = AssessmentInputs(dates, kinds, date.today())
    by_path: dict[str, list] = defaultdict(list)
    for item in evaluation.evidence:
        by_path[item.path].append(item)
    checks = []
    for source in sorted({path.split("/", 1)[0] for path in by_path}):
        rows = [i for i in corpus.labelled if i.source == source and not i.exclude and i.path in evaluation.kinds]
        everything = [e for path in by_path if path.split("/", 1)[0] == source for e in by_path[path]]
        for catalog, level in corpus.catalogs:
            before = {v.id: v.status for v in assess(catalog, level, everything, inputs).verdicts}
            members: dict[str, set[str]] = defaultdict(set)
            for row in rows:
                for label in row.labels.get(catalog.id, ()):
                    members[label].add(row.path)
            for label, paths in sorted(members.items()):
                ours = [r for r, status in before.items() if label_class(catalog.id, r) == label]
                if not any(before[r] == Status.COVERED for r in ours):
                    continue  # nothing to detect: it was not covered even with its documents
                remaining = [e for e in everything if e.path not in paths]
                after = assess(catalog, level, remaining, inputs).verdicts
                still = [v for v in after if label_class(catalog.id, v.id) == label and v.status == Status.COVERED]
                kept = sorted({e.path for v in still for e in v.evidence})
                checks.append(GapCheck(source, catalog.id, label, len(paths), not still, tuple(kept)))
    return checks


def per_source(corpus: Corpus, evaluation: Evaluation) -> dict[str, list[FrameworkScore]]:
    """The figures of each organisation on its own."""
    rows = [i for i in corpus.labelled if not i.exclude and i.path in evaluation.kinds]
    frameworks = [catalog.id for catalog, _ in corpus.catalogs]
    return {
        source: score([i for i in rows if i.source == source],
                      [e for e in evaluation.evidence if e.path.split("/", 1)[0] == source], frameworks)
        for source in sorted({i.source for i in rows})
    }


def format_evaluation(evaluation: Evaluation, sources: dict[str, list[FrameworkScore]] | None = None) -> str:
    lines = []
    for framework in evaluation.frameworks:
        micro, macro = framework.micro, framework.macro
        lines += [
            f"{framework.framework}: {framework.documents} documents ({framework.negatives} with no label), "
            f"cv={evaluation.cv}",
            f"  micro  precision {micro[0]:.3f}  recall {micro[1]:.3f}  F1 {micro[2]:.3f}",
            f"  macro  precision {macro[0]:.3f}  recall {macro[1]:.3f}  F1 {macro[2]:.3f}",
            f"  false tags per unlabelled document: {framework.false_tags_per_negative:.2f}",
            f"  {'label':8} {'support':>7} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>6} {'F1':>6}",
        ]
        for c in framework.classes:
            lines.append(
                f"  {c.label:8} {c.support:7d} {c.tp:4d} {c.fp:4d} {c.fn:4d} "
                f"{c.precision:9.2f} {c.recall:6.2f} {c.f1:6.2f}"
            )
    if sources:
        lines.append("by source (micro precision / recall / F1; false tags per unlabelled document):")
        for source, figures in sources.items():
            cells = [f"{f.framework} {f.micro[0]:.2f} / {f.micro[1]:.2f} / {f.micro[2]:.2f}; "
                     f"{f.false_tags_per_negative:.2f} on {f.negatives}" for f in figures]
            lines.append(f"  {source:40} " + " | ".join(cells))
    return "\n".join(lines)


def format_gap_detection(checks: list[GapCheck]) -> str:
    if not checks:
        return "gap detection: no label was covered with its documents present"
    lines = []
    for framework in sorted({c.framework for c in checks}):
        ours = [c for c in checks if c.framework == framework]
        detected = sum(c.detected for c in ours)
        lines.append(f"gap detection {framework}: removing a source's documents of a covered label turned "
                     f"{detected} of {len(ours)} into gaps ({detected / len(ours):.0%})")
        for check in ours:
            if not check.detected:
                lines.append(f"  MISS {check.source} {check.label} ({check.removed} removed); still covered by "
                             + ", ".join(p.split("/", 1)[-1] for p in check.kept[:3]))
    return "\n".join(lines)
