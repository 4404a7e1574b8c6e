"""Scans the shared corpus of real QMS documents written by other organisations.

The corpus is not part of this repository (it is not ours to redistribute); these tests read it from
``../shared/corpus`` beside the checkout and skip when it is absent.
"""

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from gapscan.classifiers.decision import Decision
from gapscan.mappings import bundled_catalogs
from gapscan.reports.html import render_html
from gapscan.reports.inert import md_text
from gapscan.reports.markdown import render_markdown
from gapscan.scanner.config import Config
from gapscan.scanner.pipeline import Scanner, scan

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
# Skipped when ../shared/corpus is absent (tests/conftest.py); slow: the module's first test scans the whole corpus.
pytestmark = [pytest.mark.corpus, pytest.mark.slow]


@pytest.fixture(scope="module")
def corpus_scan(corpus_index):
    return scan(CORPUS, Config(), index_path=corpus_index, jobs=2, today=date(2026, 11, 25))


@pytest.fixture(scope="module")
def labels():
    with open(CORPUS / "labels.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_every_readable_labelled_document_is_in_the_report(corpus_scan, labels):
    """A labelled file of a type gapscan does not read (the GitHub issue forms in YAML) is counted
    among the files not read, by its type; every other one is a document in the report."""
    documents = {d.path: d for d in corpus_scan.report.documents}
    unsupported = dict(corpus_scan.report.not_read.unsupported)
    for row in labels:
        if row["exclude"] == "unsupported":
            assert row["path"] not in documents, row["path"]
            assert unsupported.get(Path(row["path"]).suffix.lower(), 0) >= 1, row["path"]
            continue
        assert row["path"] in documents, row["path"]
        if row["exclude"] not in ("notext", "empty"):
            assert documents[row["path"]].status == "ok", (row["path"], documents[row["path"]].reason)


def test_yaml_issue_forms_are_counted_as_files_not_read(corpus_scan, labels):
    forms = [row["path"] for row in labels if row["exclude"] == "unsupported"]
    assert len(forms) == 4 and all(path.endswith(".yml") for path in forms)
    assert dict(corpus_scan.report.not_read.unsupported)[".yml"] >= len(forms)
    assert "files of types gapscan does not read" in corpus_scan.report.not_read.sentence()


def test_documents_in_spanish_are_assessed_and_italian_ones_are_not_and_every_output_says_so(corpus_scan, labels):
    documents = {d.path: d for d in corpus_scan.report.documents}

    def readable(language: str) -> list[str]:
        return [row["path"] for row in labels if row["lang"] == language and documents.get(row["path"]) is not None
                and documents[row["path"]].status == "ok"]

    spanish, italian = readable("es"), readable("it")
    assert len(spanish) >= 90 and len(italian) >= 3
    assert all((documents[p].language, documents[p].assessed, documents[p].reason) == ("es", True, None)
               for p in spanish)
    audit = documents["ingmontoya__tavira/docs/iso9001/06-evaluacion-desempeno/auditorias-internas.md"]
    assert "9.2" in {t.requirement for t in audit.tags}
    for path in italian:
        document = documents[path]
        assert (document.language, document.assessed) == ("it", False), path
        assert document.reason == ("written in Italian (it); the catalogs read English, French, German, Portuguese "
                                   "and Spanish")
        assert document.tags == ()
    english = [documents[row["path"]] for row in labels if row["lang"].startswith("en") and row["path"] in documents
               and documents[row["path"]].status == "ok"]
    assert all(d.assessed for d in english), [d.path for d in english if not d.assessed]
    assert not {e.path for e in corpus_scan.evidence if e.tag} & set(italian)
    warning = corpus_scan.report.language_warning
    not_assessed = dict(corpus_scan.report.frameworks[0].not_assessed)
    assert "es" not in not_assessed and not_assessed["it"] >= len(italian)
    assert f"{not_assessed['it']} documents in Italian" in warning and "the catalogs read English, French" in warning
    markdown = render_markdown(corpus_scan.report)
    assert markdown.index(md_text(warning, 400)) < markdown.index("| Framework")
    html = render_html(corpus_scan.report)
    assert html.index(warning) < html.index('class="overview"')


def test_image_only_documents_are_unreadable_with_a_reason(corpus_scan, labels):
    documents = {d.path: d for d in corpus_scan.report.documents}
    for row in labels:
        if row["exclude"] == "notext":
            document = documents[row["path"]]
            assert document.status == "unreadable" and "no extractable text" in document.reason


def test_both_frameworks_are_assessed(corpus_scan):
    frameworks = {f.id: f for f in corpus_scan.report.frameworks}
    assert set(frameworks) == {"iso9001-2015", "cmmi-v2-dev"}
    for framework in frameworks.values():
        assert 0 < framework.coverage < 1
        for verdict in framework.verdicts:
            assert verdict.reason.endswith(".")


@pytest.mark.parametrize(
    "path, clause",
    [
        ("GSTT-CSC__QMS-Template/CSC-PR-027-Internal-Audit.md", "9.2"),
        ("GSTT-CSC__QMS-Template/CSC-PR-016-Corrective-and-Preventive-Action.md", "10.2"),
        ("GSTT-CSC__QMS-Template/CSC-PR-011-Management-Review.md", "9.3"),
        ("GSTT-CSC__QMS-Template/CSC-F-001-Training-Log-Template.md", "7.2"),
    ],
)
def test_spot_checks_on_core_procedures(corpus_scan, path, clause):
    """The clause a quality manager would file the document under is its best ISO match."""
    iso = [e for e in corpus_scan.evidence if e.path == path and e.framework == "iso9001-2015"]
    top = max(iso, key=lambda e: e.score)
    assert top.requirement == clause or top.requirement.startswith(clause + "."), [
        (e.requirement, e.score) for e in iso]
    assert top.terms


def test_a_folder_of_templates_covers_no_requirement_that_asks_for_records(corpus_index_copy):
    """A generic ISO 9001 handbook of templates, full of placeholders, shows that nothing is done yet.
    Its own scan (its documents weighed against its own folder), from a copy of the corpus index."""
    handbook = CORPUS / "surreal70__Handbook-Generator"
    index = corpus_index_copy("handbook-index")
    report = scan(handbook, Config(), index_path=index, jobs=2, today=date(2026, 11, 25)).report
    kinds = {d.path: d.kind for d in report.documents if d.status == "ok"}
    assert len(kinds) >= 26 and set(kinds.values()) <= {"template", "reference"}, kinds
    assert any(d.tags for d in report.documents), "templates are still evidence of what the handbook describes"
    catalogs = bundled_catalogs()
    for framework in report.frameworks:
        for verdict in framework.verdicts:
            if catalogs[framework.id].get(verdict.id).needs_records:
                assert verdict.status != "covered", (framework.id, verdict.id, verdict.reason)
            if verdict.status == "partial":
                assert "template" in verdict.reason, verdict.reason


def test_a_report_weighs_every_tag_and_only_the_near_misses_it_lists(corpus_scan, corpus_index, monkeypatch):
    """A collection's candidates are decided without writing each one out: the report built from
    its tags and listed near misses is the one every decided candidate gives."""
    with Scanner(CORPUS, Config(), index_path=corpus_index, jobs=2) as scanner:
        scanner.sync()
        every = [e for document in scanner.classified() for e in document.evidence]
        reported = scanner.reported_evidence()
        assert all(e.tag == all(check.passed for check in e.checks) for e in every)
        assert [e for e in reported if e.tag] == [replace(e, checks=()) for e in every if e.tag]
        assert len(reported) < len(every) / 3
        today = date(2026, 11, 25)
        weighed = replace(scanner.report(today), generated_at="")
        kinds = scanner.decision().kinds
        monkeypatch.setattr(scanner, "decision", lambda: Decision(kinds, every))
        assert replace(scanner.report(today), generated_at="") == weighed
