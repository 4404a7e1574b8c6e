"""The pipeline end to end in-process: discovery, index reuse, classification and assessment."""

import hashlib
import os
import sqlite3
import time
from datetime import date
from pathlib import Path

import pytest

from gapscan.reports.model import NotRead
from gapscan.scanner import index as index_module
from gapscan.scanner import pipeline
from gapscan.scanner.config import Config
from gapscan.scanner.extract import Limits
from gapscan.scanner.index import Index, stored_extracts
from gapscan.scanner.output import write_atomic
from gapscan.scanner.pipeline import Scanner, scan
from fixtures.latex import write_latex_manual
from fixtures.documents import write_text_file as write

AUDIT = """# Internal audit procedure

## Audit programme
The quality manager plans the internal audit programme each year so that every process is audited
at least once, with more frequent audits of processes that changed or had findings.

## Conducting audits
Auditors are independent of the area they audit. Each audit has a scope, criteria and a checklist.
Findings and nonconformities are written in the audit report and reported to management.
"""
AUDIT_REPORT = """# Internal audit report 2026-03

Audit date: 2026-03-12. Auditor: J. Smith (independent of the area audited). Scope: design and
development process. Criteria: the design procedure and the audit programme.

| Finding | Type | Action owner | Due |
|---|---|---|---|
| Design review minutes not signed | minor nonconformity | A. Jones | 2026-04-30 |
| Audit checklist complete | observation | - | - |

The audit report was issued to the management team; findings are tracked in the audit log.
"""


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "qms"
    write(root, "procedures/internal-audit-procedure.md", AUDIT)
    write(root, "records/audits/internal-audit-report-2026-03.md", AUDIT_REPORT)
    write(root, "empty.txt", "")
    write(root, "records/old.doc", "legacy")
    return root


def run(root: Path, tmp_path: Path, **config):
    return scan(root, Config(frameworks=("iso9001-2015",), **config), index_path=tmp_path / "index.sqlite",
                jobs=2, today=date(2026, 11, 25))


def test_scan_covers_internal_audit_and_lists_unreadable_files(tree, tmp_path):
    result = run(tree, tmp_path)
    report = result.report
    assert report.summary == {"documents": 4, "readable": 2, "unreadable": 2}
    by_path = {d.path: d for d in report.documents}
    assert by_path["empty.txt"].status == "unreadable" and "empty" in by_path["empty.txt"].reason
    assert by_path["records/old.doc"].status == "skipped" and ".doc" in by_path["records/old.doc"].reason
    audit = {v.id: v for v in report.frameworks[0].verdicts}["9.2"]
    assert audit.status == "covered", audit.reason
    assert {e.path for e in audit.evidence} == {
        "procedures/internal-audit-procedure.md", "records/audits/internal-audit-report-2026-03.md"}
    tags = {t.requirement for t in by_path["procedures/internal-audit-procedure.md"].tags}
    assert "9.2" in tags


def test_audit_procedure_alone_is_partial_because_records_are_required(tree, tmp_path):
    (tree / "records/audits/internal-audit-report-2026-03.md").unlink()
    audit = {v.id: v for v in run(tree, tmp_path).report.frameworks[0].verdicts}["9.2"]
    assert audit.status == "partial" and "records" in audit.reason


def test_unchanged_tree_rescans_from_the_index(tree, tmp_path):
    first = run(tree, tmp_path)
    assert first.stats.extracted == 4
    second = run(tree, tmp_path)
    assert second.stats.extracted == 0 and second.stats.reused == 4
    assert [d.tags for d in second.report.documents] == [d.tags for d in first.report.documents]


def test_documents_stored_in_batches_bounded_by_their_text_give_the_same_report(tree, tmp_path, monkeypatch):
    """The index takes freshly read documents a batch at a time, a batch ending where its text
    passes a bound (a run of large registers is not all held at once): every batch is stored and
    scored."""
    (tmp_path / "whole").mkdir()
    (tmp_path / "batched").mkdir()
    whole = run(tree, tmp_path / "whole")
    monkeypatch.setattr(pipeline, "_STORE_BATCH_CHARS", 1)  # a batch per document
    batched = run(tree, tmp_path / "batched")
    assert batched.stats.extracted == whole.stats.extracted == 4
    assert batched.report.documents == whole.report.documents
    assert batched.report.frameworks == whole.report.frameworks
    stored = stored_extracts(tmp_path / "batched" / "index.sqlite")
    assert len(stored) == 4 and sorted(stored) == sorted(stored_extracts(tmp_path / "whole" / "index.sqlite"))


def test_changed_file_is_read_again_and_renamed_file_reuses_its_extract(tree, tmp_path):
    run(tree, tmp_path)
    write(tree, "procedures/internal-audit-procedure.md", AUDIT + "\nAudit results go to management review.\n")
    os.rename(tree / "records/audits/internal-audit-report-2026-03.md", tree / "records/audit-2026.md")
    result = run(tree, tmp_path)
    assert result.stats.extracted == 1  # the changed one; the renamed one has known content
    assert "records/audit-2026.md" in {d.path for d in result.report.documents}


def test_iso_scores_do_not_depend_on_which_other_frameworks_are_assessed(tree, tmp_path):
    def iso_scores(**config):
        report = scan(tree, Config(**config), index_path=tmp_path / "index.sqlite", jobs=2).report
        (iso,) = [f for f in report.frameworks if f.id == "iso9001-2015"]
        return {(v.id, e.path, e.score) for v in iso.verdicts for e in v.evidence + v.near_misses}

    alone = iso_scores(frameworks=("iso9001-2015",))
    assert alone
    assert iso_scores() == alone
    assert iso_scores(cmmi_level=2) == alone


def test_index_is_sqlite_in_wal_mode_with_scan_history(tree, tmp_path):
    run(tree, tmp_path)
    run(tree, tmp_path)
    db = sqlite3.connect(tmp_path / "index.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 4


def test_scan_history_keeps_the_newest_scans_only(tmp_path, monkeypatch):
    monkeypatch.setattr(index_module, "HISTORY_KEPT", 3)
    with Index(tmp_path / "index.sqlite") as index:
        for day in range(1, 6):
            index.record_scan(f"2026-11-0{day}T10:00:00+00:00", day, day, {"iso9001-2015": day / 10})
        assert [h["documents"] for h in index.history()] == [3, 4, 5]


def test_writing_a_report_removes_temporary_files_a_killed_writer_left(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    abandoned, in_progress, other = out / ".report.html.k1ll3d.tmp", out / ".report.html.wr1t1ng.tmp", out / "notes.tmp"
    for leftover in (abandoned, in_progress, other):
        leftover.write_text("half a report", encoding="utf-8")
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    os.utime(other, (two_hours_ago, two_hours_ago))
    write_atomic(out / "report.html", "<p>report</p>")
    assert (out / "report.html").read_text(encoding="utf-8") == "<p>report</p>"
    assert not abandoned.exists()
    assert in_progress.exists() and other.exists(), "only our own old temporary files go"


def test_scan_writes_nothing_inside_the_scanned_tree(tree, tmp_path):
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    run(tree, tmp_path)
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before


def test_not_applicable_from_config(tree, tmp_path):
    result = run(tree, tmp_path, not_applicable={"iso9001-2015": {"8.3": "No design work."}})
    verdicts = {v.id: v for v in result.report.frameworks[0].verdicts}
    assert verdicts["8.3.2"].status == "not_applicable" and "No design work." in verdicts["8.3.2"].reason


@pytest.mark.parametrize(
    "config, message",
    [
        (Config(not_applicable={"iso9001-2015": {"8.3.0": "typo"}}),
         "not_applicable.iso9001-2015: no such requirement: 8.3.0"),
        (Config(max_age_days={"iso9001-2015": {"99": 10}}), "max_age.iso9001-2015: no such requirement: 99"),
        (Config(frameworks=("iso27001",)), "unknown framework(s): iso27001"),
    ],
)
def test_misspelt_settings_are_errors_not_silently_ignored(config, message):
    from gapscan.scanner.config import ConfigError
    from gapscan.scanner.pipeline import select_catalogs

    with pytest.raises(ConfigError) as error:
        select_catalogs(config)
    assert message in str(error.value)


def test_repeated_framework_is_assessed_once(tree, tmp_path):
    result = scan(tree, Config(frameworks=("iso9001-2015", "iso9001-2015")), index_path=tmp_path / "i.sqlite", jobs=1)
    assert [f.id for f in result.report.frameworks] == ["iso9001-2015"]


def test_a_review_date_in_the_future_does_not_make_old_records_fresh(tree, tmp_path):
    write(tree, "records/audits/internal-audit-report-2018.md",
          AUDIT_REPORT.replace("2026-03-12", "2018-03-01") + "\nNext review date: 2031-03-01\n")
    (tree / "records/audits/internal-audit-report-2026-03.md").unlink()
    result = run(tree, tmp_path)
    by_path = {d.path: d for d in result.report.documents}
    assert by_path["records/audits/internal-audit-report-2018.md"].modified == "2018-03-01"


def test_the_labels_file_is_not_a_document(tree, tmp_path):
    write(tree, "labels.tsv", "path\tiso9001\nprocedures/internal-audit-procedure.md\t9.2\n")
    result = run(tree, tmp_path, labels=tree / "labels.tsv")
    assert "labels.tsv" not in {d.path for d in result.report.documents}


def test_files_not_read_are_counted_in_the_report(tree, tmp_path):
    write(tree, "forms/capa.yml", "name: CAPA request\n")
    write(tree, "drafts/new.md", "# Draft\n")
    write(tree, "records/huge.pdf", "%PDF-1.4\n" + "x" * 5000)
    limits = Limits(max_file_bytes=4096)
    report = run(tree, tmp_path, exclude=("drafts/",), limits=limits).report
    assert report.not_read == NotRead(unsupported=((".yml", 1),), excluded=((".md", 1),), too_large=((".pdf", 1),))
    assert report.not_read.sentence() == (
        "Not read: 1 file of types gapscan does not read (1 .yml); 1 file excluded by include/exclude patterns "
        "(1 .md); 1 file over the size limit (1 .pdf).")
    huge = next(d for d in report.documents if d.path == "records/huge.pdf")
    assert huge.status == "unreadable"  # still listed with its reason


def test_a_latex_manual_is_read_again_when_a_file_it_includes_changes(tmp_path):
    root = write_latex_manual(tmp_path)
    chapter = root / "chapters" / "audit.tex"
    config = Config(frameworks=("iso9001-2015",))
    with Scanner(root, config, index_path=tmp_path / "index.sqlite", jobs=1) as scanner:
        scanner.sync()
        assert "Auditors never audit their own work." in scanner.results["quality-manual.tex"].text
        chapter.write_text(chapter.read_text().replace("never audit their own work", "are trained each year"))
        scanner.update(["chapters/audit.tex"])  # what the watch service does on the change event
        assert "Auditors are trained each year." in scanner.results["quality-manual.tex"].text
    # a new scan (a new process) does not take the manual from the index either
    chapter.write_text(chapter.read_text().replace("are trained each year", "report to the quality manager"))
    result = scan(root, config, index_path=tmp_path / "index.sqlite", jobs=1)
    manual = next(d for d in result.report.documents if d.path == "quality-manual.tex")
    assert manual.status == "ok"
    with Scanner(root, config, index_path=tmp_path / "index.sqlite", jobs=1) as scanner:
        scanner.sync()
        assert "Auditors report to the quality manager." in scanner.results["quality-manual.tex"].text


# --- one read per file: what is cached is what was hashed -------------------------------------

MENU = "# Canteen menu\n\nSoup of the day, a vegetarian dish and fruit, every weekday at noon.\n"


def iso_tags(result, path: str) -> set[str]:
    (document,) = [d for d in result.report.documents if d.path == path]
    return {t.requirement for t in document.tags}


def test_a_file_replaced_while_it_is_read_never_poisons_the_cache(tmp_path):
    """The defect: the parent hashed a file and the worker opened it again to parse it, so a file
    replaced in between was cached under the old content's hash, and from then on an unrelated file
    with the old content counted as audit evidence. The worker now hashes the bytes it parses.

    The file is replaced the moment its first reader closes it (an inotify event, whichever
    process read it): nothing but the worker that parses it may read it first."""
    import threading

    from watchdog.events import FileClosedNoWriteEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    root = tmp_path / "qms"
    target = write(root, "notes/weekly.md", MENU)
    write(root, "procedures/internal-audit-procedure.md", AUDIT)
    replaced = threading.Event()

    class ReplaceAfterFirstRead(FileSystemEventHandler):
        def on_closed_no_write(self, event: FileClosedNoWriteEvent) -> None:
            if Path(str(event.src_path)) == target and not replaced.is_set():  # the worst moment: right after the read
                write(root, "notes/weekly.tmp", AUDIT_REPORT)
                os.replace(root / "notes/weekly.tmp", target)
                replaced.set()

    observer = Observer()
    observer.schedule(ReplaceAfterFirstRead(), str(target.parent))
    observer.start()
    try:
        first = run(root, tmp_path)
        assert replaced.wait(10), "the scan never read the file"
    finally:
        observer.stop()
        observer.join()
    assert "9.2" not in iso_tags(first, "notes/weekly.md")  # it reports what it read: the menu
    (payload,) = stored_extracts(tmp_path / "index.sqlite", hashlib.sha256(MENU.encode()).hexdigest())
    assert "Canteen" in payload and "audit" not in payload.lower()

    write(root, "kitchen/menu-copy.md", MENU)  # unrelated, with the old content
    second = run(root, tmp_path)
    assert iso_tags(second, "kitchen/menu-copy.md") == set()
    assert "9.2" in iso_tags(second, "notes/weekly.md")  # changed on disk: read again
    assert second.stats.extracted == 1  # the replaced file; the copy's content was known


def test_a_file_that_timed_out_is_tried_again_only_when_it_or_the_limit_changes(tmp_path):
    from fixtures.documents import write_slow_pdf

    root = tmp_path / "qms"
    write(root, "procedures/internal-audit-procedure.md", AUDIT)
    write_slow_pdf(root / "slow.pdf")

    def reason(result):
        return {d.path: d.reason for d in result.report.documents}["slow.pdf"]

    first = run(root, tmp_path, limits=Limits(timeout_seconds=1))
    again = run(root, tmp_path, limits=Limits(timeout_seconds=1))
    assert reason(first) == reason(again) == "timed out after 1 s"
    assert (first.stats.extracted, again.stats.extracted) == (2, 0)  # not paid for again
    raised = run(root, tmp_path, limits=Limits(timeout_seconds=1.5))
    assert raised.stats.extracted == 1 and reason(raised) == "timed out after 1.5 s"
    os.utime(root / "slow.pdf", (1, 1))
    assert run(root, tmp_path, limits=Limits(timeout_seconds=1.5)).stats.extracted == 1


def test_a_labels_file_that_is_a_fifo_stops_the_run_before_it_starts(tree, tmp_path):
    from gapscan.scanner.config import ConfigError

    os.mkfifo(tmp_path / "labels.tsv")  # opening it would wait for a writer for ever
    started = time.monotonic()
    with pytest.raises(ConfigError, match="labels: .*a FIFO \\(named pipe\\), not a regular file"):
        run(tree, tmp_path, labels=tmp_path / "labels.tsv")
    assert time.monotonic() - started < 30
