"""Training, the model file, evaluation and gap detection (issue: classifier quality)."""

import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from gapscan.classifiers import evaluate as evaluation
from gapscan.classifiers.analysis import Analyzer
from gapscan.scanner.common.evidence import Evidence
from gapscan.classifiers.labels import Labelled, label_class, load_labels, training_hash
from gapscan.classifiers.models import default_model, model_from_labels
from gapscan.classifiers.supervised import FORMAT, ModelError, SupervisedModel, train
from gapscan.reports.model import GapReport
from gapscan.scanner.config import Config
from gapscan.scanner.pipeline import Scanner, scan
from fixtures.documents import write_text_file as write

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

AUDIT = "The internal audit programme schedules audits of every process; auditors record findings in the audit report."
TRAINING = "Training needs come from the skills matrix; each course is logged in the training record with the trainer."
OTHER = "The canteen opens at noon and the car park closes at seven in the evening."


def test_labels_tsv_and_csv_with_classes_at_label_granularity(tmp_path):
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("path\tiso9001\tcmmi\texclude\tnote\na.md\t9.2;8.3.4\tPQA 2.1\t\tx\nb.md\t\t\tindex\ty\n",
                   encoding="utf-8")
    csv_file = tmp_path / "labels.csv"
    csv_file.write_text("path,iso9001\na.md,9.2\n", encoding="utf-8")
    first, second = load_labels(tsv)
    assert first.labels == {"iso9001-2015": {"9.2", "8.3"}, "cmmi-v2-dev": {"PQA"}}
    assert second.exclude == "index" and second.labels["iso9001-2015"] == frozenset()
    assert load_labels(csv_file)[0].labels == {"iso9001-2015": {"9.2"}}
    assert label_class("iso9001-2015", "7.1.5") == "7.1" and label_class("cmmi-v2-dev", "RDM 2.5") == "RDM"


def test_training_hash_changes_with_labels_or_content_only():
    rows = [Labelled("a.md", {"iso9001-2015": frozenset({"9.2"})})]
    base = training_hash(rows, {"a.md": "1"})
    assert training_hash(rows, {"a.md": "1"}) == base
    assert training_hash(rows, {"a.md": "2"}) != base
    assert training_hash([Labelled("a.md", {"iso9001-2015": frozenset({"7.2"})})], {"a.md": "1"}) != base


def small_model():
    texts = [AUDIT, AUDIT + " Findings are closed.", TRAINING, TRAINING + " Competence is checked.", OTHER, OTHER]
    labels = ([{"iso9001-2015": frozenset({"9.2"})}] * 2 + [{"iso9001-2015": frozenset({"7.2"})}] * 2
              + [{"iso9001-2015": frozenset()}] * 2)
    return train(texts, labels, {"training_hash": "abc", "catalogs": {"iso9001-2015": "2015"}})


def test_model_round_trips_as_plain_arrays_and_records_its_provenance(tmp_path):
    model = small_model()
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = SupervisedModel.load(path)
    assert loaded.classes == model.classes == (("iso9001-2015", "7.2"), ("iso9001-2015", "9.2"))
    features = loaded.features([AUDIT])
    # Weights are stored at half precision: probabilities agree to three decimals.
    assert np.allclose(loaded.probabilities(features), model.probabilities(model.features([AUDIT])), atol=1e-3)
    assert loaded.probabilities(features)[0].argmax() == 1
    assert loaded.info["format"] == FORMAT and loaded.info["training_hash"] == "abc"
    assert {"scikit-learn", "numpy", "python"} <= set(loaded.info["libraries"])
    assert loaded.info["catalogs"] == {"iso9001-2015": "2015"}


def test_model_file_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([{"format": FORMAT}], dtype=object))
    with pytest.raises(ModelError, match="not a gapscan model"):
        SupervisedModel.load(path)


def test_shipped_model_loads_and_records_what_it_was_built_with():
    model = default_model()
    assert model is not None, "classifiers/data/default-model.npz is part of the package"
    assert model.info["catalogs"] == {"iso9001-2015": "2015 (with Amendment 1:2024)", "cmmi-v2-dev": "2.0"}
    assert len(model.info["training_hash"]) == 64 and model.info["documents"] > 100


def test_scores_count_false_tags_on_unlabelled_documents():
    rows = [Labelled("a", {"iso9001-2015": frozenset({"9.2"})}), Labelled("b", {"iso9001-2015": frozenset()})]
    evidence = [
        Evidence("a", "iso9001-2015", "9.2", 0.9, tag=True),
        Evidence("a", "iso9001-2015", "10.2", 0.5, tag=True),
        Evidence("b", "iso9001-2015", "7.2", 0.5, tag=True),
        Evidence("b", "iso9001-2015", "7.3", 0.3, tag=False),
    ]
    (result,) = evaluation.score(rows, evidence, ["iso9001-2015"])
    precision, recall, f1 = result.micro
    assert (round(precision, 3), recall) == (0.333, 1.0)
    assert result.negatives == 1 and result.false_tags_per_negative == 1.0
    assert {c.label: (c.tp, c.fp, c.fn) for c in result.classes} == {
        "9.2": (1, 0, 0), "10.2": (0, 1, 0), "7.2": (0, 1, 0)}


@pytest.fixture
def labelled_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "qms"
    for source in ("org-a", "org-b", "org-c"):
        write(root, f"{source}/audit.md", f"# Audit\n{AUDIT} ({source})")
        write(root, f"{source}/training.md", f"# Training\n{TRAINING} ({source})")
        write(root, f"{source}/canteen.md", f"# Canteen\n{OTHER} ({source})")
    rows = ["path\tiso9001\tcmmi"]
    for source in ("org-a", "org-b", "org-c"):
        rows += [f"{source}/audit.md\t9.2\tPQA", f"{source}/training.md\t7.2\tOT", f"{source}/canteen.md\t\t"]
    write(root, "labels.tsv", "\n".join(rows) + "\n")
    return root


def test_cross_validation_never_scores_a_source_with_a_model_that_saw_it(labelled_tree, monkeypatch):
    seen = []
    real_fit = evaluation.fit

    def recording_fit(rows, extracts, info, *args):
        seen.append((info["fold"], {r.source for r in rows}))
        return real_fit(rows, extracts, info, *args)

    monkeypatch.setattr(evaluation, "fit", recording_fit)
    with Scanner(labelled_tree, Config(), index_path=labelled_tree.parent / "i.sqlite", jobs=1) as scanner:
        scanner.sync()
        extracts = {p: r for p, r in scanner.results.items() if hasattr(r, "sections")}
        result = evaluation.cross_validate(scanner.catalogs, load_labels(labelled_tree / "labels.tsv"), extracts)
    assert sorted(fold for fold, _ in seen) == ["org-a", "org-b", "org-c"]
    assert all(fold not in sources and len(sources) == 2 for fold, sources in seen)
    iso = result.frameworks[0]
    assert iso.documents == 9 and iso.micro[0] > 0.5


def test_labels_in_config_train_once_and_retrain_only_on_change(labelled_tree):
    with Scanner(labelled_tree, Config(), index_path=labelled_tree.parent / "i.sqlite", jobs=1) as scanner:
        scanner.sync()
        extracts = {p: r for p, r in scanner.results.items() if hasattr(r, "sections")}
        model, trained = model_from_labels(labelled_tree / "labels.tsv", extracts, scanner.catalogs)
        assert trained
        again, trained_again = model_from_labels(labelled_tree / "labels.tsv", extracts, scanner.catalogs)
        assert not trained_again and again.info["training_hash"] == model.info["training_hash"]
    write(labelled_tree, "org-a/audit.md", f"# Audit\n{AUDIT} Revised.")
    with Scanner(labelled_tree, Config(), index_path=labelled_tree.parent / "i.sqlite", jobs=1) as scanner:
        scanner.sync()
        extracts = {p: r for p, r in scanner.results.items() if hasattr(r, "sections")}
        _, retrained = model_from_labels(labelled_tree / "labels.tsv", extracts, scanner.catalogs)
        assert retrained


def test_scan_with_labels_in_config_uses_the_trained_model(labelled_tree):
    write(labelled_tree, "gapscan.toml", 'labels = "labels.tsv"\nframeworks = ["iso9001-2015"]\n')
    from gapscan.scanner.config import load_config

    result = scan(labelled_tree, load_config(labelled_tree), index_path=labelled_tree.parent / "i.sqlite", jobs=1)
    documents = {d.path: d for d in result.report.documents}
    assert "9.2" in {t.requirement for t in documents["org-b/audit.md"].tags}
    assert not documents["org-b/canteen.md"].tags
    models = list((labelled_tree.parent / "cache" / "gapscan" / "models").glob("labels-*.npz"))
    assert len(models) == 1


def _eval(tmp_path, corpus_index, language: str):
    """``gapscan eval`` of the corpus documents in ``language``, leaving one source out: the run and
    its JSON figures."""
    out = tmp_path / "eval.json"
    done = subprocess.run([sys.executable, "-m", "gapscan.scanner", "eval", "--labels", str(CORPUS / "labels.tsv"),
                           "--corpus", str(CORPUS), "--lang", language, "--index", str(corpus_index), "--json",
                           str(out)], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    return done, json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.corpus
@pytest.mark.slow
def test_eval_reports_figures_as_json_and_the_accuracy_bar_is_met(tmp_path, corpus_index):
    done, figures = _eval(tmp_path, corpus_index, "en")
    assert figures["cv"] == "source"
    frameworks = {f["framework"]: f for f in figures["frameworks"]}
    assert set(frameworks) == {"iso9001-2015", "cmmi-v2-dev"}
    english = [r for r in load_labels(CORPUS / "labels.tsv") if "en" in r.languages and not r.exclude]
    for framework in frameworks.values():
        assert framework["documents"] == len(english) and framework["classes"]
    assert len(figures["sources"]) == 9
    # The bar of docs/accuracy.md, each organisation scored by a model trained without it (the
    # shipped model itself is trained on all of them). Floors: the figures reached so far, which
    # only rise; issue 10's bar is ISO P 0.80 / F1 0.70, CMMI P 0.75 / F1 0.65, 0.15 false tags.
    iso, cmmi = frameworks["iso9001-2015"], frameworks["cmmi-v2-dev"]
    assert iso["micro"]["precision"] >= 0.88 and iso["micro"]["f1"] >= 0.73, iso["micro"]
    assert cmmi["micro"]["precision"] >= 0.78 and cmmi["micro"]["f1"] >= 0.68, cmmi["micro"]
    assert iso["false_tags_per_negative"] <= 0.15 and cmmi["false_tags_per_negative"] <= 0.15
    for framework, floor in (("iso9001-2015", 0.85), ("cmmi-v2-dev", 0.85)):
        checks = [c for c in figures["gap_detection"] if c["framework"] == framework]
        assert sum(c["detected"] for c in checks) / len(checks) >= floor, framework
    assert "micro  precision" in done.stdout and "by source" in done.stdout


@pytest.mark.corpus
@pytest.mark.slow
def test_spanish_quality_systems_meet_the_bar(tmp_path, corpus_index):
    """Issue 15's bar on the Spanish documents, each organisation scored by a model trained without
    it (the Spanish model then comes from the other Spanish organisation): ISO precision 0.70 and F1
    0.55. Floors: the figures reached so far (docs/accuracy.md), which only rise."""
    _, figures = _eval(tmp_path, corpus_index, "es")
    assert set(figures["sources"]) == {"agustinsuana__proj-scm", "ingmontoya__tavira"}
    iso, cmmi = ({f["framework"]: f for f in figures["frameworks"]}[k] for k in ("iso9001-2015", "cmmi-v2-dev"))
    assert iso["micro"]["precision"] >= 0.85 and iso["micro"]["f1"] >= 0.70, iso["micro"]
    assert cmmi["micro"]["precision"] >= 0.80 and cmmi["micro"]["f1"] >= 0.70, cmmi["micro"]


@pytest.fixture(scope="module")
def organisation_scan(corpus_index_copy):
    """Scans of one organisation's folder of the corpus, with or without some of its documents. Each
    organisation has an index of its own, a copy of the session's corpus index (the eval above filled
    it), so its documents are not read again, only scored; its full scan is made once."""
    indexes: dict[str, Path] = {}
    full: dict[str, GapReport] = {}

    def scan_organisation(source: str, removed: frozenset[str] = frozenset()) -> GapReport:
        if not removed and source in full:
            return full[source]
        if source not in indexes:
            indexes[source] = corpus_index_copy("organisation-index")
        config = Config(exclude=tuple("/" + path for path in sorted(removed)))
        report = scan(CORPUS / source, config, index_path=indexes[source], jobs=2, today=date(2026, 11, 25)).report
        if not removed:
            full[source] = report
        return report

    return scan_organisation


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("source, framework, label", [
    ("GSTT-CSC__QMS-Template", "iso9001-2015", "8.4"),
    ("GSTT-CSC__QMS-Template", "iso9001-2015", "7.2"),
    ("innolitics__rdm", "iso9001-2015", "6.1"),
    ("GSTT-CSC__QMS-Template", "cmmi-v2-dev", "OT"),
    ("GSTT-CSC__QMS-Template", "cmmi-v2-dev", "PQA"),
    ("GSTT-CSC__QMS-Template", "cmmi-v2-dev", "VV"),
])
def test_removing_a_requirements_documents_turns_it_into_a_gap(organisation_scan, source, framework, label):
    """An organisation's folder is scanned as it is, then without its documents of one label: the label
    becomes a gap, and no requirement whose evidence is all still there loses its verdict."""
    rows = [r for r in load_labels(CORPUS / "labels.tsv")
            if r.source == source and not r.exclude and label in r.labels.get(framework, ())]
    assert rows
    removed = frozenset(r.path.split("/", 1)[1] for r in rows)
    full = organisation_scan(source)
    without = organisation_scan(source, removed)

    def verdicts(report):
        (result,) = [f for f in report.frameworks if f.id == framework]
        return {v.id: v for v in result.verdicts}

    before, after = verdicts(full), verdicts(without)
    ours = [rid for rid in after if label_class(framework, rid) == label]
    assert any(before[rid].status == "covered" for rid in ours), "the label was evidenced before removal"
    assert all(after[rid].status in ("missing", "partial") for rid in ours), {r: after[r].reason for r in ours}
    untouched = [rid for rid, v in before.items()
                 if v.status == "covered" and not removed & {e.path for e in v.evidence}]
    assert untouched
    assert [rid for rid in untouched if after[rid].status != "covered"] == []


def test_cross_validation_reads_each_training_text_once_for_every_fold(labelled_tree, monkeypatch):
    analysed: Counter[str] = Counter()
    training = []
    real_terms, real_train = Analyzer.terms, evaluation.train

    def counting_terms(self, text):
        if training:
            analysed[text] += 1
        return real_terms(self, text)

    def flagged_train(*args, **kwargs):
        training.append(True)
        try:
            return real_train(*args, **kwargs)
        finally:
            training.pop()

    monkeypatch.setattr(Analyzer, "terms", counting_terms)
    monkeypatch.setattr(evaluation, "train", flagged_train)
    with Scanner(labelled_tree, Config(), index_path=labelled_tree.parent / "i.sqlite", jobs=1) as scanner:
        scanner.sync()
        extracts = {p: r for p, r in scanner.results.items() if hasattr(r, "sections")}
        evaluation.cross_validate(scanner.catalogs, load_labels(labelled_tree / "labels.tsv"), extracts)
    # Each of the nine documents trains the models of two of the three folds.
    assert sorted(analysed.values()) == [1] * 9
