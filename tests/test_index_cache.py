"""What the index keeps between scans: extracts with their text compressed and out of memory,
and each document's scores under the fingerprint of the classifier that gave them."""

import gc
import json
import os
import pickle
import sqlite3
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
import zstandard
from gapscan.classifiers.decision import Decider, TaggerSettings
from gapscan.classifiers.models import default_model
from gapscan.classifiers.tfidf import ProfileSimilarity, Tagger
from gapscan.scanner.common.documents import Document, Extract, Section
from gapscan.scanner.config import Config
from gapscan.scanner.extract import Limits, extract_file
from gapscan.scanner.index import (
    FINGERPRINTS_KEPT,
    SCHEMA_VERSION,
    Index,
    StoredExtract,
    pack_sections,
    unpack_sections,
)
from gapscan.scanner.pipeline import Scanner, scan, select_catalogs
from gapscan.scanner import pipeline, scoring
from gapscan.scanner.scoring import fingerprint, scores_from_stored, stored_scores
from fixtures.documents import write_text_file as write

CONTROL = """# Document control procedure

## Purpose
This procedure describes how controlled documents are identified, reviewed, approved, distributed
and kept current, and how obsolete documents are withdrawn so that they are not used by mistake.

## Approval and review
Every document has an owner who reviews it once a year. Changes are approved by the quality manager
before release; the revision history records what changed, when and why.
"""
CAPA = """# Corrective action procedure

## Nonconformities
A nonconformity is recorded in the CAPA log with its containment, the root cause analysis (five
whys or a fishbone diagram), the corrective action, its owner and its due date.

## Effectiveness
The quality manager verifies that each corrective action was effective before it is closed, and
reviews open actions in the monthly quality meeting.
"""
TRAINING = """# Training plan 2026

| Course | Who | When | Competence check |
|---|---|---|---|
| ISO 9001 awareness | all staff | January | quiz |
| Internal auditor | auditors | March | observed audit |
| Root cause analysis | engineers | May | case study |

Training records are kept by HR; the effectiveness of each course is evaluated after three months.
"""


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "qms"
    write(root, "procedures/document-control.md", CONTROL)
    write(root, "procedures/corrective-action.md", CAPA)
    write(root, "training/training-plan-2026.md", TRAINING)
    return root


def assessed(result) -> tuple:
    """A report's verdicts and documents: what a scan says, without when it said it."""
    return result.report.frameworks, result.report.documents


def test_an_unchanged_rescan_scores_no_document_and_reports_the_same(tree, tmp_path, monkeypatch):
    index = tmp_path / "index.sqlite"
    first = scan(tree, Config(), index_path=index, jobs=2)

    def never(self, extract):
        raise AssertionError(f"{extract.document.path} scored again")

    monkeypatch.setattr(Tagger, "score", never)
    second = scan(tree, Config(), index_path=index, jobs=2)
    assert second.stats.extracted == 0
    assert assessed(second) == assessed(first)


def decisions_counted(monkeypatch) -> list[int]:
    """From here on, each time a collection is decided adds how many documents it held."""
    counted: list[int] = []
    decide = Decider.decide

    def counting(self, scores):
        counted.append(len(scores))
        return decide(self, scores)

    monkeypatch.setattr(Decider, "decide", counting)
    return counted


def stored_decisions(index: Path) -> int:
    with sqlite3.connect(index) as db:
        return db.execute("SELECT count(*) FROM decisions").fetchone()[0]


def test_an_unchanged_rescan_decides_nothing_and_reports_the_same(tree, tmp_path, monkeypatch):
    """Nor does it read any document's stored scores: the decision is all a report needs of them."""
    index = tmp_path / "index.sqlite"
    counted = decisions_counted(monkeypatch)
    first = scan(tree, Config(), index_path=index, jobs=2)

    def never(path, stored):
        raise AssertionError(f"{path}: stored scores read")

    monkeypatch.setattr(scoring, "scores_from_stored", never)
    again = scan(tree, Config(), index_path=index, jobs=2)
    assert counted == [3]
    assert assessed(again) == assessed(first)
    assert again.evidence == first.evidence and any(e.tag for e in again.evidence)
    assert stored_decisions(index) == 1


def test_a_changed_document_or_setting_decides_the_collection_again(tree, tmp_path, monkeypatch):
    """The decision is weighed over the whole collection: one document changed or removed, another
    level, or another form of the stored decision, and every document is decided again, to the
    report a first scan gives."""
    index = tmp_path / "index.sqlite"
    counted = decisions_counted(monkeypatch)
    scan(tree, Config(), index_path=index, jobs=2)

    def rescanned_as_new(config: Config) -> None:
        decided = len(counted)
        result = scan(tree, config, index_path=index, jobs=2)
        assert len(counted) == decided + 1
        assert assessed(result) == assessed(scan(tree, config, index_path=tmp_path / f"fresh-{decided}.sqlite", jobs=2))

    write(tree, "procedures/corrective-action.md", CAPA.replace("monthly quality meeting", "management review"))
    rescanned_as_new(Config())
    (tree / "training/training-plan-2026.md").unlink()
    rescanned_as_new(Config())
    rescanned_as_new(Config(cmmi_level=2))
    monkeypatch.setattr(scoring, "DECISION_FORM", scoring.DECISION_FORM + 1)
    rescanned_as_new(Config(cmmi_level=2))
    assert counted[0::2] == [3, 3, 2, 2, 2]  # the scans of the index (each fresh scan's between)
    assert stored_decisions(index) == 1


def test_a_stored_decision_that_does_not_decode_is_decided_again(tree, tmp_path, monkeypatch):
    index = tmp_path / "index.sqlite"
    first = scan(tree, Config(), index_path=index, jobs=2)
    counted = decisions_counted(monkeypatch)
    for damaged in (b"not compressed", zlib.compress(b'{"not": "a decision"}'), zlib.compress(b"[[[1]], [[2]]]")):
        with sqlite3.connect(index) as db:
            db.execute("UPDATE decisions SET payload=?", (damaged,))
        assert assessed(scan(tree, Config(), index_path=index, jobs=2)) == assessed(first)
    assert counted == [3, 3, 3]


def test_a_document_that_includes_other_files_keeps_its_collection_from_being_stored(tree, tmp_path, monkeypatch):
    """A LaTeX document's scores depend on the files it includes, which its content hash does not
    name: its collection is decided at each scan, and the included file's change shows."""
    index = tmp_path / "index.sqlite"
    write(tree, "manual/quality-manual.tex", "\\section{Quality manual}\n\\input{chapters/control}\n")
    write(tree, "manual/chapters/control.tex", CONTROL.replace("# ", "").replace("## ", ""))
    counted = decisions_counted(monkeypatch)
    scan(tree, Config(), index_path=index, jobs=2)
    write(tree, "manual/chapters/control.tex", CAPA.replace("# ", "").replace("## ", ""))
    changed = scan(tree, Config(), index_path=index, jobs=2)
    assert len(counted) == 2 and stored_decisions(index) == 0
    assert assessed(changed) == assessed(scan(tree, Config(), index_path=tmp_path / "fresh.sqlite", jobs=2))


def test_other_catalog_settings_rescore_from_the_index_without_reading_a_file(tree, tmp_path):
    index = tmp_path / "index.sqlite"
    scan(tree, Config(), index_path=index, jobs=2)
    fresh = scan(tree, Config(cmmi_level=2), index_path=tmp_path / "fresh.sqlite", jobs=2)
    # Every file's content changed to words of nothing, its size and modification time kept: a
    # file read again (in this process or a worker) would be scored as that and change the report.
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        status = path.stat()
        path.write_bytes(b"x" * status.st_size)
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    level2 = scan(tree, Config(cmmi_level=2), index_path=index, jobs=2)
    assert level2.stats.extracted == 0
    assert assessed(level2) == assessed(fresh)
    with sqlite3.connect(index) as db:
        fingerprints = db.execute("SELECT count(DISTINCT fingerprint), count(*) FROM scores").fetchone()
    assert fingerprints == (2, 6)  # three documents under each settings' fingerprint


def test_scores_stored_in_another_form_are_scored_again_not_misread(tree, tmp_path, monkeypatch):
    """The stored form's version is part of the fingerprint: scores that an earlier gapscan stored
    in another form are never read as this one's."""
    index = tmp_path / "index.sqlite"
    first = scan(tree, Config(), index_path=index, jobs=2)
    monkeypatch.setattr(scoring, "STORED_FORM", scoring.STORED_FORM + 1)
    again = scan(tree, Config(), index_path=index, jobs=2)
    assert again.stats.extracted == 0
    assert assessed(again) == assessed(first)
    with sqlite3.connect(index) as db:
        assert db.execute("SELECT count(DISTINCT fingerprint), count(*) FROM scores").fetchone() == (2, 6)


def test_scores_are_kept_under_the_last_few_fingerprints_used(tree, tmp_path, monkeypatch):
    """An upgrade or a changed catalog does not leave every earlier configuration's scores in the
    index, and going back to one of the last few used scores nothing again."""
    index = tmp_path / "index.sqlite"
    first = scan(tree, Config(), index_path=index, jobs=2)
    form = scoring.STORED_FORM
    for later in range(1, FINGERPRINTS_KEPT + 1):  # each a new fingerprint: the first falls out
        monkeypatch.setattr(scoring, "STORED_FORM", form + later)
        scan(tree, Config(), index_path=index, jobs=2)
    with sqlite3.connect(index) as db:
        kept = db.execute("SELECT count(DISTINCT fingerprint), count(*) FROM scores").fetchone()
    assert kept == (FINGERPRINTS_KEPT, 3 * FINGERPRINTS_KEPT)  # three documents under each

    def never(self, extract):
        raise AssertionError(f"{extract.document.path} scored again")

    monkeypatch.setattr(scoring, "STORED_FORM", form + 1)  # the oldest of those kept
    monkeypatch.setattr(Tagger, "score", never)
    assert assessed(scan(tree, Config(), index_path=index, jobs=2)) == assessed(first)


def test_the_fingerprint_is_of_the_catalogs_content_not_of_where_they_are_installed(tmp_path):
    """gapscan installed elsewhere (a new virtualenv, another CI checkout) reuses the scores: the
    catalogs and their translated profiles count by content, not by path; a changed profile counts."""
    catalogs = select_catalogs(Config())
    moved = []
    for catalog, level in catalogs:
        translations = []
        for language, path in catalog.translations:
            copy = tmp_path / catalog.id / Path(path).name
            copy.parent.mkdir(exist_ok=True)
            copy.write_bytes(Path(path).read_bytes())
            translations.append((language, str(copy)))
        moved.append((replace(catalog, source=str(tmp_path / catalog.id / "catalog.toml"),
                              translations=tuple(translations)), level))
    settings, model = TaggerSettings(), default_model()
    assert any(catalog.translations for catalog, _ in catalogs)
    assert fingerprint(moved, settings, model) == fingerprint(catalogs, settings, model)
    changed = Path(moved[0][0].translations[0][1])
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert fingerprint(moved, settings, model) != fingerprint(catalogs, settings, model)


def score_only_in_workers(monkeypatch) -> None:
    """From here on, a document scored in this process fails the test."""
    main = os.getpid()
    score = Tagger.score

    def only_in_workers(self, extract):
        assert os.getpid() != main, f"{extract.document.path} scored in the main process"
        return score(self, extract)

    monkeypatch.setattr(Tagger, "score", only_in_workers)


def test_documents_are_scored_in_the_workers_that_read_them(tree, tmp_path, monkeypatch):
    score_only_in_workers(monkeypatch)
    with Scanner(tree, Config(), index_path=tmp_path / "index.sqlite", jobs=2) as scanner:
        scanner.sync()
        monkeypatch.undo()
        assert len(scanner.scores) == 3
        for path, scores in scanner.scores.items():  # the same as scoring here, through the stored form
            assert scores == scores_from_stored(path, stored_scores(scanner.tagger.score(scanner.results[path])))


def test_a_scorer_sent_to_a_worker_takes_the_profiles_fitted_here(tree, tmp_path, monkeypatch):
    """Workers are replaced every few hundred files, and each would take a quarter of a second to
    fit the profiles and scope models again: the scorer carries those the scan has fitted, and
    scores with them as the scan's own tagger does."""
    with Scanner(tree, Config(), index_path=tmp_path / "index.sqlite", jobs=2) as scanner:
        scanner.sync()  # scored in the workers: here, only the profiles are fitted
        sent = pickle.dumps(scanner.scorer)
        extracts = [result.loaded() for result in scanner.results.values()]
        expected = [scanner.scorer(extract) for extract in extracts]
    monkeypatch.setattr(scoring, "_TAGGERS", {})  # a fresh worker's

    def not_again(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(ProfileSimilarity, "fit", not_again)
    received = pickle.loads(sent)
    assert [received(extract) for extract in extracts] == expected


def test_scores_are_held_only_once_the_workers_are_gone(tree, tmp_path, monkeypatch):
    """The coordinating process holds no scores while the workers read: what they score goes to
    the index, and is taken from there once they are gone (held meanwhile, a collection's scores
    would add to the workers' memory at the scan's peak)."""
    score_only_in_workers(monkeypatch)
    monkeypatch.setattr(pipeline, "_STORE_BATCH", 1)  # each document stored as soon as it is read
    held_while_reading: list[int] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "extract" and done:
            held_while_reading.append(len(scanner.scores))

    with Scanner(tree, Config(), index_path=tmp_path / "index.sqlite", jobs=2, progress=progress) as scanner:
        scanner.sync()
        assert held_while_reading == [0, 0, 0]
        assert len(scanner.scores) == 3


def test_a_collection_scored_again_from_the_index_is_scored_in_worker_processes(tree, tmp_path, monkeypatch):
    """A new model, catalog or gapscan version scores every document again from its stored text,
    in as many processes as a scan reads files with."""
    index = tmp_path / "index.sqlite"
    first = scan(tree, Config(), index_path=index, jobs=2)
    monkeypatch.setattr(scoring, "STORED_FORM", scoring.STORED_FORM + 1)
    monkeypatch.setattr(pipeline, "_SCORED_IN_WORKERS", 2)
    score_only_in_workers(monkeypatch)
    again = scan(tree, Config(), index_path=index, jobs=2)
    assert again.stats.extracted == 0
    assert assessed(again) == assessed(first)
    with sqlite3.connect(index) as db:
        assert db.execute("SELECT count(DISTINCT fingerprint), count(*) FROM scores").fetchone() == (2, 6)


def test_extracts_are_held_without_their_text_which_stays_in_the_index(tree, tmp_path):
    with Scanner(tree, Config(), index_path=tmp_path / "index.sqlite", jobs=1) as scanner:
        scanner.sync()
        for path, held in scanner.results.items():
            file = tree / path
            read = extract_file(file, Document(path, "md", file.stat().st_size, file.stat().st_mtime), Limits())
            assert isinstance(held, StoredExtract) and isinstance(read, Extract)
            held_values = gc.get_referents(held)
            assert read.sections not in held_values and not [text for text in held_values if isinstance(text, str)
                                                             and read.sections[-1].text in text]
            assert held.sections == read.sections and held == read and held.text == read.text


def test_text_is_stored_compressed(tmp_path):
    root = tmp_path / "qms"
    write(root, "procedures/manual.md", CONTROL * 200)
    index = tmp_path / "index.sqlite"
    scan(root, Config(), index_path=index, jobs=1)
    with sqlite3.connect(index) as db:
        (stored,) = db.execute("SELECT length(sections) FROM texts").fetchone()
    assert stored < len(CONTROL * 200) / 10


def test_an_index_of_the_first_schema_is_rebuilt_keeping_its_scan_history(tmp_path):
    path = tmp_path / "index.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema', '1');
            CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime REAL NOT NULL,
                                sha256 TEXT NOT NULL);
            INSERT INTO files VALUES ('a.md', 3, 1.0, 'abc');
            CREATE TABLE extracts (sha256 TEXT NOT NULL, extractor INTEGER NOT NULL, status TEXT NOT NULL,
                                   reason TEXT, payload TEXT, PRIMARY KEY (sha256, extractor));
            INSERT INTO extracts VALUES ('abc', 4, 'ok', NULL, '{"sections": []}');
            CREATE TABLE scans (id INTEGER PRIMARY KEY AUTOINCREMENT, finished TEXT NOT NULL,
                                documents INTEGER NOT NULL, readable INTEGER NOT NULL, coverage TEXT NOT NULL);
            INSERT INTO scans (finished, documents, readable, coverage)
                VALUES ('2026-11-01T10:00:00+00:00', 1, 1, '{"iso9001-2015": 0.5}');
        """)
    db.close()
    with Index(path) as index:
        assert [h["documents"] for h in index.history()] == [1]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(SCHEMA_VERSION),)
        assert db.execute("SELECT count(*) FROM extracts").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM files").fetchone() == (0,)
        assert "sections" in {row[1] for row in db.execute("PRAGMA table_info(texts)")}
    db.close()


def test_an_index_whose_text_is_zlib_compressed_is_rebuilt_and_read_anew(tree, tmp_path):
    """Schema 2 stored text with zlib: a scan after the upgrade reads every document again."""
    index = tmp_path / "index.sqlite"
    scan(tree, Config(), index_path=index, jobs=1)
    with sqlite3.connect(index) as db:
        rows = db.execute("SELECT sha256, extractor, sections FROM texts").fetchall()
        db.executemany("UPDATE texts SET sections=? WHERE sha256=? AND extractor=?",
                       [(zlib.compress(zstandard.decompress(blob)), sha, extractor) for sha, extractor, blob in rows])
        db.execute("UPDATE meta SET value='2' WHERE key='schema'")
    db.close()
    with Scanner(tree, Config(), index_path=index, jobs=1) as scanner:
        stats = scanner.sync()
        assert (stats.extracted, stats.reused) == (len(rows), 0)
        assert "obsolete documents are withdrawn" in scanner.results["procedures/document-control.md"].text
    with sqlite3.connect(index) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(SCHEMA_VERSION),)
    db.close()


def test_sections_are_stored_as_they_are_whatever_their_text_holds():
    sections = (
        Section("header and footer", "", ""),
        Section("sheet \"Q1\"\nlog", "line one\nline two\r\n\u2028 \\n \u00e9\U0001f600 | \x00", "es"),
        Section("", "", ""),
        Section("Ende", "{\"json\": [1]}\n", "de"),
    )
    assert unpack_sections(pack_sections(sections)) == sections
    assert unpack_sections(pack_sections(())) == ()


def test_text_stored_as_one_json_list_by_an_earlier_gapscan_is_read_without_reading_files_again(tree, tmp_path):
    index = tmp_path / "index.sqlite"
    with Scanner(tree, Config(), index_path=index, jobs=1) as scanner:
        scanner.sync()
        first = {path: result.sections for path, result in scanner.results.items()}
    with sqlite3.connect(index) as db:
        rows = db.execute("SELECT sha256, extractor, sections FROM texts").fetchall()
        as_json = [(zstandard.compress(json.dumps([[s.locator, s.text, s.language] for s in unpack_sections(blob)])
                                       .encode()), sha, extractor) for sha, extractor, blob in rows]
        db.executemany("UPDATE texts SET sections=? WHERE sha256=? AND extractor=?", as_json)
    db.close()
    with Scanner(tree, Config(), index_path=index, jobs=1) as scanner:
        assert scanner.sync().extracted == 0
        assert {path: result.sections for path, result in scanner.results.items()} == first


def test_stored_sections_whose_lengths_do_not_add_up_are_an_unusable_index(tree, tmp_path):
    from gapscan.scanner.index import IndexUnusable

    index = tmp_path / "index.sqlite"
    scan(tree, Config(), index_path=index, jobs=1)
    short = zstandard.compress(b'[["Scope",40,""]]\nThe system covers design.')
    with sqlite3.connect(index) as db:
        db.execute("UPDATE texts SET sections=?", (short,))
    db.close()
    with pytest.raises(IndexUnusable, match="--rebuild-index"), Scanner(tree, Config(), index_path=index) as scanner:
        scanner.sync()
        for result in scanner.results.values():
            assert result.sections


def test_an_index_of_schema_3_is_converted_and_nothing_is_read_again(tree, tmp_path):
    """Schema 3 kept each extract's text beside its metadata: the text moves to a table of its own."""
    index = tmp_path / "index.sqlite"
    first = scan(tree, Config(), index_path=index, jobs=1)
    with sqlite3.connect(index) as db:
        texts = dict(((sha, extractor), blob) for sha, extractor, blob in db.execute("SELECT * FROM texts"))
        db.executescript("""
            ALTER TABLE extracts ADD COLUMN sections BLOB;
            UPDATE extracts SET sections = (SELECT sections FROM texts
                                            WHERE texts.sha256 = extracts.sha256
                                              AND texts.extractor = extracts.extractor);
            DROP TABLE texts;
            UPDATE meta SET value = '3' WHERE key = 'schema';
        """)
    db.close()
    with Scanner(tree, Config(), index_path=index, jobs=1) as scanner:
        stats = scanner.sync()
        assert stats.extracted == 0
        assert "obsolete documents are withdrawn" in scanner.results["procedures/document-control.md"].text
        report = scanner.report()
        assert [d.path for d in report.documents] == [d.path for d in first.report.documents]
        assert [len(h.coverage) for h in scanner.history()] == [len(first.report.frameworks)]
    with sqlite3.connect(index) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(SCHEMA_VERSION),)
        assert "sections" not in {row[1] for row in db.execute("PRAGMA table_info(extracts)")}
        assert dict(((sha, extractor), blob) for sha, extractor, blob in db.execute("SELECT * FROM texts")) == texts
    db.close()


def test_an_extract_held_after_its_scan_still_has_its_text(tree, tmp_path):
    with Scanner(tree, Config(), index_path=tmp_path / "index.sqlite", jobs=1) as scanner:
        scanner.sync()
        held = scanner.results["procedures/document-control.md"]
    assert isinstance(held, StoredExtract)
    assert "obsolete documents are withdrawn" in held.text


def test_stored_text_that_no_longer_decodes_is_an_unusable_index(tree, tmp_path):
    from gapscan.scanner.index import IndexUnusable

    index = tmp_path / "index.sqlite"
    scan(tree, Config(), index_path=index, jobs=2)
    with sqlite3.connect(index) as db:
        db.execute("UPDATE texts SET sections = x'00ff00ff'")
    with pytest.raises(IndexUnusable, match="--rebuild-index"), Scanner(tree, Config(), index_path=index) as scanner:
        scanner.sync()
        for result in scanner.results.values():
            assert result.sections  # the text is read from the index here


def test_a_bug_inside_the_index_is_not_reported_as_corruption(tree, tmp_path, monkeypatch):
    index = tmp_path / "index.sqlite"
    scan(tree, Config(), index_path=index, jobs=2)

    def buggy(blob):
        raise TypeError("a bug of gapscan's own")

    monkeypatch.setattr("gapscan.scanner.index.unpack_sections", buggy)
    with pytest.raises(TypeError, match="a bug of gapscan's own"), Scanner(tree, Config(), index_path=index) as s:
        s.sync()
        for result in s.results.values():
            assert result.sections
