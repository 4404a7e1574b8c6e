"""``gapscan watch`` with real filesystem events: inotify and the polling observer, real files,
real worker processes, and the real command line with real signals."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
import pytest

from gapscan.scanner.cli import watch_command
from gapscan.scanner.config import Config
from gapscan.scanner.extract import Limits
from gapscan.scanner.output import OutputError, write_reports
from gapscan.scanner.pipeline import scan
from gapscan.scanner.watch import ChangeQueue, RootMonitor, WatchService, look_at, split_stable
from fixtures.documents import write_text_file as write

ISO = Config(frameworks=("iso9001-2015",))
MODES = [pytest.param(None, id="inotify"), pytest.param(0.2, id="poll")]

POLICY = """# Quality policy

Our company designs and services industrial pumps. Top management commits to meeting customer
requirements and applicable legal requirements, and to improving the quality management system
continually. The policy is communicated to every employee at induction and reviewed each year at
the management review. It gives the framework for setting our quality objectives.
"""
DOCUMENT_CONTROL = """# Control of documented information

Every controlled document has an identifier, a revision, an owner and an approval date. Drafts are
reviewed by a second person and approved before release. Obsolete revisions are withdrawn from the
shared drive and kept in the archive. The master list shows the current revision of each procedure
and form. Records are retained for the period in the retention table and protected from loss.
"""
AUDIT_PROCEDURE = """# Internal audit procedure

## Audit programme
The quality manager plans the internal audit programme each year so that every process is audited
at least once, more often where a process changed or had findings in the last audit.

## Conducting audits
Auditors are independent of the area they audit. Each audit has a scope, criteria and a checklist.
Findings and nonconformities are recorded in the audit report and reported to management.
"""
AUDIT_REPORT = """# Internal audit report IA-2026-04

Audit date: 2026-04-14. Auditor: R. Keller, independent of the area audited. Scope: purchasing and
supplier evaluation. Criteria: the purchasing procedure and the audit programme.

| Finding | Type | Owner | Due |
|---|---|---|---|
| Two supplier evaluations overdue | minor nonconformity | P. Marsh | 2026-05-31 |
| Audit checklist complete | observation | - | - |

The audit report was issued to management; findings are tracked in the audit log.
"""


# The services a test started and has not stopped: a wait that times out says what each saw.
RUNNING: list[WatchService] = []


def wait_for(condition, timeout: float = 20.0, what: str = "the condition"):
    """Poll ``condition`` until it returns something truthy (and return that)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}{''.join(map(_service_state, RUNNING))}")
        time.sleep(0.05)


def _service_state(service: WatchService) -> str:
    batches = [(b.kind, b.changed, b.removed) for b in service.batches]
    return (f"\n{service.root}: health {service.health()}, observer alive {service.observer.alive()}, "
            f"queued {len(service.queue)}, batches {batches}")


def load(out: Path) -> dict | None:
    try:
        return json.loads((out / "report.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def documents(report: dict | None) -> dict[str, dict]:
    return {d["path"]: d for d in report["documents"]} if report else {}


def status(report: dict | None, requirement: str) -> str | None:
    if not report:
        return None
    (iso,) = [f for f in report["frameworks"] if f["id"] == "iso9001-2015"]
    return {r["id"]: r["status"] for r in iso["requirements"]}[requirement]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def child_pids() -> list[int]:
    """Processes whose parent is this one (from /proc; psutil is not installed)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == os.getpid():
                children.append(int(entry))
    return children


def assert_nothing_left(baseline: set[threading.Thread]) -> None:
    wait_for(lambda: not (set(threading.enumerate()) - baseline), timeout=10,
             what="the service's threads to end")
    assert not multiprocessing.active_children()
    wait_for(lambda: not child_pids(), timeout=10, what="the extraction workers to end")


@pytest.fixture(autouse=True)
def no_threads_left():
    """Every test here leaves no thread behind: a watch service joins its worker, observer and
    server threads when it stops (whether it started, failed to start or was never started)."""
    before = set(threading.enumerate())
    yield
    wait_for(lambda: not (set(threading.enumerate()) - before), timeout=10, what="the test's threads to end")
    assert set(threading.enumerate()) <= before


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "qms"
    write(root, "policy/quality-policy.md", POLICY)
    write(root, "procedures/document-control.md", DOCUMENT_CONTROL)
    return root


@pytest.fixture
def services(tmp_path):
    """Starts watch services; at the end stops them and checks that no thread or process is left."""
    baseline = set(threading.enumerate())
    started: list[WatchService] = []

    def start(root: Path, poll: float | None = None, **options) -> WatchService:
        options.setdefault("out_dir", tmp_path / "out")
        options.setdefault("index_path", tmp_path / "index.sqlite")
        service = WatchService(root, ISO, jobs=2, poll=poll, debounce=0.2, root_check=0.1, **options)
        service.start()
        started.append(service)
        RUNNING.append(service)
        return service

    yield start
    for service in started:
        RUNNING.remove(service)
        service.stop()
    assert_nothing_left(baseline)
    for service in started:
        assert service.error is None, service.error


def batches_after_start(service: WatchService):
    return [b for b in service.batches if b.kind == "batch"]


@pytest.mark.parametrize("poll", MODES)
def test_create_modify_move_delete(tree, services, tmp_path, poll):
    out = tmp_path / "out"
    service = services(tree, poll)
    report = wait_for(lambda: load(out), what="the first report")
    assert set(documents(report)) == {"policy/quality-policy.md", "procedures/document-control.md"}
    assert status(report, "9.2") == "missing"

    # Created: a procedure and a record make internal audit covered.
    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    write(tree, "records/audit-report-IA-2026-04.md", AUDIT_REPORT)
    report = wait_for(lambda: status(load(out), "9.2") == "covered" and load(out), what="9.2 covered")
    assert {"procedures/internal-audit.md", "records/audit-report-IA-2026-04.md"} <= set(documents(report))

    # Modified: only that file is read again.
    edited = POLICY + "\nThe policy was confirmed without change at the 2026 management review.\n"
    write(tree, "policy/quality-policy.md", edited)
    wait_for(lambda: documents(load(out))["policy/quality-policy.md"]["sha256"] == sha(edited), what="the edit")

    # Moved: the old path stops counting, the new one counts.
    os.rename(tree / "records/audit-report-IA-2026-04.md", tree / "records/IA-2026-04.md")
    report = wait_for(lambda: "records/IA-2026-04.md" in documents(load(out)) and load(out), what="the move")
    assert "records/audit-report-IA-2026-04.md" not in documents(report)
    assert status(report, "9.2") == "covered"

    # Deleted: the record is gone, so the procedure alone leaves 9.2 partial.
    (tree / "records/IA-2026-04.md").unlink()
    report = wait_for(lambda: status(load(out), "9.2") == "partial" and load(out), what="9.2 partial")
    assert "records/IA-2026-04.md" not in documents(report)

    # Each batch read only what was touched, never the untouched documents.
    read = {p for b in batches_after_start(service) for p in b.changed}
    assert "procedures/document-control.md" not in read
    assert read <= {"procedures/internal-audit.md", "records/audit-report-IA-2026-04.md",
                    "policy/quality-policy.md", "records/IA-2026-04.md"}
    health = wait_for(lambda: service.health()["status"] == "watching" and service.health(), what="watching")
    assert health["queue"] == 0 and health["documents"] == 3 and health["last_scan"]
    assert health["observer"] == ("inotify" if poll is None else "polling every 0.2 s")


@pytest.mark.parametrize("poll", MODES)
def test_folder_moved_out_and_back_in(tree, services, tmp_path, poll):
    out = tmp_path / "out"
    services(tree, poll)
    write(tree, "audits/2026/internal-audit.md", AUDIT_PROCEDURE)
    write(tree, "audits/2026/IA-2026-04.md", AUDIT_REPORT)
    wait_for(lambda: status(load(out), "9.2") == "covered", what="the audit folder")

    shutil.move(tree / "audits", tmp_path / "elsewhere")
    report = wait_for(lambda: status(load(out), "9.2") == "missing" and load(out), what="the folder to leave")
    assert not any(p.startswith("audits/") for p in documents(report))

    shutil.move(tmp_path / "elsewhere", tree / "archive")
    report = wait_for(lambda: status(load(out), "9.2") == "covered" and load(out), what="the folder to return")
    assert {"archive/2026/internal-audit.md", "archive/2026/IA-2026-04.md"} <= set(documents(report))


BURST = 200


def test_burst_is_batched_and_ends_like_a_one_off_scan(tree, services, tmp_path):
    out = tmp_path / "out"
    service = services(tree)
    wait_for(lambda: load(out), what="the first report")
    topics = [("internal-audit", AUDIT_PROCEDURE), ("audit-report", AUDIT_REPORT), ("policy", POLICY),
              ("document-control", DOCUMENT_CONTROL)]
    for number in range(BURST):
        name, text = topics[number % len(topics)]
        write(tree, f"burst/{number % 7}/{name}-{number:03d}.md",
              f"{text}\nReference {number}: prepared by team {number % 11} for site {number % 5}.\n")
    wait_for(lambda: len(documents(load(out))) == BURST + 2 and service.health()["queue"] == 0
             and service.health()["status"] == "watching", timeout=40, what="the burst")

    batches = batches_after_start(service)
    assert 1 <= len(batches) <= 3, [(b.files, len(b.changed)) for b in batches]  # debounced, not one per file
    assert sum(len(b.changed) for b in batches) == BURST

    watched = load(out)
    once = scan(tree, ISO, index_path=tmp_path / "one-off.sqlite", jobs=2)
    write_reports(once.report, tmp_path / "one-off", ("json",))
    one_off = load(tmp_path / "one-off")
    for report in (watched, one_off):
        report.pop("generated_at")
    assert watched == one_off


def test_a_file_being_written_waits_until_it_is_stable(tree, services, tmp_path):
    # The rule itself: a file whose size or mtime moved since its last event is not ready.
    queue = ChangeQueue(debounce=0.0)
    path = write(tree, "records/growing.md", "# Log\n")
    queue.put("records/growing.md", look_at(path))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("more text\n")
    ready, changing = split_stable(tree, queue.take(1.0))
    assert ready == [] and changing == {"records/growing.md": look_at(path)}
    queue.put("records/growing.md", changing["records/growing.md"])
    ready, changing = split_stable(tree, queue.take(1.0))
    assert ready == ["records/growing.md"] and changing == {}

    # In the service: a file written line by line ends up read whole, and nothing else is read.
    out = tmp_path / "out"
    service = services(tree)
    wait_for(lambda: load(out), what="the first report")
    lines = AUDIT_REPORT.splitlines(keepends=True)
    with open(tree / "records/IA-2026-04.md", "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
            handle.flush()
            time.sleep(0.03)
    wait_for(lambda: documents(load(out)).get("records/IA-2026-04.md", {}).get("sha256") == sha(AUDIT_REPORT),
             what="the complete file")
    assert all(b.changed in ((), ("records/IA-2026-04.md",), ("records/growing.md",))
               for b in batches_after_start(service))


@pytest.mark.parametrize("poll", MODES)
def test_root_disappears_and_comes_back(tree, services, tmp_path, poll):
    out = tmp_path / "out"
    service = services(tree, poll)
    wait_for(lambda: load(out), what="the first report")

    away = tmp_path / "unmounted"
    os.rename(tree, away)
    wait_for(lambda: service.health()["status"] == "waiting_for_root", what="the service to notice")
    assert service.health()["root_available"] is False
    assert len(documents(load(out))) == 2  # the last report is kept, not emptied

    # While it is away, the share changes.
    write(away, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    (away / "procedures/document-control.md").unlink()
    os.rename(away, tree)
    report = wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)) and load(out),
                      what="the catch-up")
    assert "procedures/document-control.md" not in documents(report)
    wait_for(lambda: service.health()["status"] == "watching", what="watching again")
    assert service.health()["root_available"] is True

    # And it is watched again.
    write(tree, "records/IA-2026-04.md", AUDIT_REPORT)
    wait_for(lambda: status(load(out), "9.2") == "covered", what="an event after the return")


def test_start_up_reads_only_what_changed_while_stopped(tree, services, tmp_path):
    out = tmp_path / "out"
    first = services(tree)
    wait_for(lambda: load(out), what="the first report")
    first.stop()

    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    write(tree, "policy/quality-policy.md", POLICY + "\nReviewed 2026.\n")
    (tree / "procedures/document-control.md").unlink()
    second = services(tree)
    report = wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)) and load(out),
                      what="the catch-up")
    assert set(documents(report)) == {"policy/quality-policy.md", "procedures/internal-audit.md"}
    assert second.last_sync.extracted == 2  # the new and the changed file; nothing else was read


def test_an_index_inside_the_root_is_ignored(tree, services, tmp_path):
    out = tmp_path / "out"
    service = services(tree, out_dir=out, index_path=tree / ".cache" / "index.sqlite")
    wait_for(lambda: load(out), what="the first report")
    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)), what="the change")
    settled = len(service.batches)
    time.sleep(1.0)  # writing the index must not trigger more batches
    assert len(service.batches) == settled
    assert not any(p.startswith(".cache/") for p in documents(load(out)))


@pytest.mark.parametrize("inside", ["gapscan-report", "."])
def test_an_output_folder_inside_the_root_is_refused(tree, tmp_path, inside):
    service = WatchService(tree, ISO, tree / inside, index_path=tmp_path / "index.sqlite")
    with pytest.raises(OutputError, match="inside the scanned folder"):
        service.start()
    assert not (tree / "gapscan-report").exists()


def test_an_unmounted_share_counts_as_gone(tmp_path):
    # A real mount needs privileges; the share's identity as last seen is set by hand instead.
    root = tmp_path / "mnt" / "qms"
    root.mkdir(parents=True)
    monitor = RootMonitor(root)
    info = os.stat(root)
    monitor.identity, monitor.mounted = (info.st_dev + 1, info.st_ino), False
    problem, _ = monitor.check(has_documents=True)  # empty, on another device than the share was: the bare mount point
    assert problem and "unmounted" in problem
    assert monitor.check(has_documents=False) == (None, True)  # an empty folder that never held documents
    write(root, "policy.md", POLICY)  # mounted again (another device than before): watch it afresh
    assert monitor.check(has_documents=True) == (None, True)
    monitor.identity, monitor.mounted = (info.st_dev, info.st_ino), True
    problem, _ = monitor.check(has_documents=True)  # it was a mount point and is not one any more
    assert problem == "is no longer mounted"


def test_the_root_monitor_notices_a_root_deleted_replaced_or_turned_into_a_file(tmp_path):
    root = tmp_path / "qms"
    root.mkdir()
    monitor = RootMonitor(root)
    assert monitor.check(has_documents=False) == (None, True)  # nothing remembered yet: take it afresh
    monitor.remember()
    assert monitor.check(has_documents=True) == (None, False)
    root.rename(tmp_path / "renamed")  # kept: the new folder below cannot reuse its inode
    problem, _ = monitor.check(has_documents=True)
    assert problem and problem.startswith("cannot be reached")
    root.write_text("not a folder")
    assert monitor.check(has_documents=True) == ("is no longer a folder", False)
    root.unlink()
    root.mkdir()  # the same name, another folder: watched again
    write(root, "policy.md", POLICY)
    assert monitor.check(has_documents=True) == (None, True)


def test_out_of_inotify_watches_falls_back_to_polling(tree, services, tmp_path, monkeypatch):
    from gapscan.scanner.watch import observer

    class Exhausted(observer.Observer):
        def start(self):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(observer, "Observer", Exhausted)
    monkeypatch.setattr(observer, "DEFAULT_POLL_SECONDS", 0.2)
    out = tmp_path / "out"
    service = services(tree)
    wait_for(lambda: load(out), what="the first report")
    assert service.health()["observer"] == "polling every 0.2 s"
    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)), what="the change, by polling")


def test_lost_inotify_events_trigger_a_full_comparison(tree, services, tmp_path):
    out = tmp_path / "out"
    service = services(tree)
    wait_for(lambda: load(out), what="the first report")
    # What watchdog logs when the kernel's queue overflowed; the file below made no event we saw.
    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
    wait_for(lambda: any(b.kind == "resync" for b in service.batches), what="the resync")
    wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)), what="the file")


def test_stop_during_a_batch_leaves_no_threads_or_processes(tree, tmp_path):
    baseline = set(threading.enumerate())
    out = tmp_path / "out"
    options = dict(index_path=tmp_path / "index.sqlite", jobs=2, poll=0.2, debounce=0.2, root_check=0.1,
                   serve=("127.0.0.1", 0))
    service = WatchService(tree, ISO, out, **options)
    service.start()
    try:
        wait_for(lambda: load(out), what="the first report")
        health = json.loads(urllib.request.urlopen(f"{service.url}/health", timeout=5).read())
        assert health["documents"] == 2 and health["queue"] == 0 and health["last_scan"]
        for number in range(200):
            write(tree, f"burst/doc-{number:03d}.md", f"{AUDIT_PROCEDURE}\nCopy {number}.\n")
        wait_for(lambda: service.health()["in_flight"] > 0 or len(documents(load(out))) == 202,
                 what="the batch to start")
    finally:
        started = time.monotonic()
        service.stop()
    assert time.monotonic() - started < 15
    assert service.error is None
    assert_nothing_left(baseline)

    # The next start catches up with whatever the stopped batch did not finish.
    again = WatchService(tree, ISO, out, **{**options, "serve": None})
    again.start()
    try:
        wait_for(lambda: len(documents(load(out))) == 202, timeout=30, what="the catch-up")
    finally:
        again.stop()
    assert_nothing_left(baseline)


def health_of(address: str) -> dict:
    """``/health`` whatever its HTTP status (503 while the service is still starting)."""
    try:
        return json.loads(urllib.request.urlopen(f"{address}/health", timeout=5).read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


@pytest.mark.parametrize("signum,poll", [(signal.SIGTERM, ["--poll", "0.3"]), (signal.SIGINT, [])],
                         ids=["SIGTERM-poll", "SIGINT-inotify"])
def test_command_line_serves_updates_and_stops_on_signals(tree, tmp_path, signum, poll):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "gapscan.scanner", "watch", str(tree), "--out", str(out), "--index",
         str(tmp_path / "index.sqlite"), "--framework", "iso9001-2015", "--jobs", "1", "--debounce", "0.2",
         "--serve", "127.0.0.1:0", *poll],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        address = wait_for(lambda: next((m.group(1) for line in lines
                                         if (m := re.search(r"at (http://127\.0\.0\.1:\d+)/", line))), None),
                           timeout=30, what="the server address")
        wait_for(lambda: health_of(address)["status"] == "watching", timeout=30, what="watching")
        write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
        wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)), what="the update")
        page = urllib.request.urlopen(f"{address}/", timeout=5)
        assert page.headers["Refresh"] and page.read() == (out / "report.html").read_bytes()
        process.send_signal(signal.SIGHUP)  # reload: compare the whole tree with the index again
        wait_for(lambda: any("resync: 3 documents in" in line for line in lines), what="the resync")
        process.send_signal(signum)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(5)
    log = "".join(lines)
    assert re.search(r"batch: 1 file \(1 changed, 0 removed\) in [\d.]+ s; iso9001-2015 [\d.]+% \(\+[\d.]+\)", log), log
    assert "stopped" in log
    # No extraction worker outlived the service (they would still name our folder).
    leftovers = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and str(tree).encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                leftovers.append(entry)
        except OSError:
            pass
    assert not leftovers


def test_watch_options(tmp_path):
    def params(*args: str) -> dict:
        return watch_command.make_context("watch", [str(tmp_path), *args]).params

    assert params()["poll"] is None and params()["serve"] is None
    assert params("--poll")["poll"] == 5.0
    assert params("--poll", "2.5")["poll"] == 2.5
    assert params("--serve", "8080")["serve"] == ("127.0.0.1", 8080)
    assert params("--serve", "0.0.0.0:8080")["serve"] == ("0.0.0.0", 8080)
    with pytest.raises(click.BadParameter):
        params("--serve", "localhost:http")


# --- /health tells the truth; nothing outside the tree; stopping is prompt ------------------------


def test_failing_writes_make_health_503_with_the_reason_until_they_succeed(tree, services, tmp_path):
    out = tmp_path / "out"
    service = services(tree)
    wait_for(lambda: load(out), what="the first report")
    assert service.health()["problems"] == []
    shutil.rmtree(out)
    out.write_text("a file where the report folder was", encoding="utf-8")  # every write now fails
    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    health = wait_for(lambda: service.health()["problems"] and service.health(), what="the failure to show")
    assert health["problems"][0].startswith(f"update failed: {out}: cannot write the reports")
    out.unlink()
    wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)), timeout=30, what="the retry")
    wait_for(lambda: service.health()["problems"] == [], what="the problem to clear")


def test_a_deleted_index_is_written_anew_and_nothing_is_lost_at_restart(tree, services, tmp_path):
    out, index = tmp_path / "out", tmp_path / "index.sqlite"
    first = services(tree)
    wait_for(lambda: load(out), what="the first report")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    wait_for(lambda: index.exists() and first.health()["problems"] == [], what="the index to be written anew")
    first.stop()
    second = services(tree)
    wait_for(lambda: second.last_sync is not None, what="the start-up")
    assert second.last_sync.extracted == 0  # everything came from the index: no work was lost


def test_an_index_that_cannot_be_written_anew_makes_health_503(tree, services, tmp_path):
    folder = tmp_path / "cache"
    service = services(tree, index_path=folder / "index.sqlite")
    wait_for(lambda: load(tmp_path / "out"), what="the first report")
    shutil.rmtree(folder)
    folder.write_text("not a folder", encoding="utf-8")
    health = wait_for(lambda: service.health()["problems"] and service.health(), what="the lost index")
    assert any("index" in problem for problem in health["problems"]), health


def test_a_batch_that_makes_no_progress_is_reported_stuck(tree, services, tmp_path):
    from fixtures.documents import write_slow_pdf

    slow = Config(frameworks=("iso9001-2015",), limits=Limits(timeout_seconds=20))
    service = WatchService(tree, slow, tmp_path / "out", index_path=tmp_path / "index.sqlite", jobs=1,
                           debounce=0.2, root_check=0.1, stuck_after=1.0)
    service.start()
    try:
        wait_for(lambda: load(tmp_path / "out"), what="the first report")
        write_slow_pdf(tree / "slow.pdf")
        health = wait_for(lambda: service.health()["problems"] and service.health(), what="the stuck batch")
        assert health["status"] == "updating" and health["problems"][0].startswith("stuck: updating has made no")
    finally:
        started = time.monotonic()
        service.stop()
    assert time.monotonic() - started < 5  # the slow file did not hold the stop up


def test_symlinks_out_of_the_tree_are_not_read_while_watching(tree, services, tmp_path):
    out = tmp_path / "out"
    secret = write(tmp_path, "secret/audit-report.md", AUDIT_REPORT)
    services(tree)
    wait_for(lambda: load(out), what="the first report")
    os.symlink(secret, tree / "linked-report.md")
    write(tree, "procedures/internal-audit.md", AUDIT_PROCEDURE)
    wait_for(lambda: "procedures/internal-audit.md" in documents(load(out)), what="the batch")
    assert "linked-report.md" not in documents(load(out))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "linked-report.md: a symlink that leads outside the scanned folder" in html


def watch_process(tree: Path, tmp_path: Path, *args: str, env: dict | None = None):
    """A real ``gapscan watch`` serving on an ephemeral port, and the lines of its log as they come."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gapscan.scanner", "watch", str(tree), "--out", str(tmp_path / "out"), "--index",
         str(tmp_path / "index.sqlite"), "--framework", "iso9001-2015", "--jobs", "1", "--serve", "127.0.0.1:0",
         *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True).start()
    return process, lines


def stop_when_serving(process: subprocess.Popen, lines: list[str]) -> float:
    """Once the service runs (it serves), send SIGTERM; returns how long the process took to end."""
    wait_for(lambda: any(" at http://127.0.0.1:" in line for line in lines), timeout=60, what="the service")
    time.sleep(1.5)  # the worker is now busy with the start-up comparison
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, "".join(lines)
    return time.monotonic() - started


def test_sigterm_during_a_slow_file_stops_within_seconds(tree, tmp_path):
    from fixtures.documents import write_slow_pdf

    write_slow_pdf(tree / "slow.pdf")
    (tmp_path / "gapscan.toml").write_text("[limits]\ntimeout_seconds = 120\n", encoding="utf-8")
    process, lines = watch_process(tree, tmp_path, "--config", str(tmp_path / "gapscan.toml"))
    try:
        assert stop_when_serving(process, lines) < 5  # at the next quarter second, not after 120 s
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_ends_the_process_even_when_the_worker_cannot_be_interrupted(tree, tmp_path):
    """A git that never answers (a hung network share does the same to any system call): the worker
    thread cannot notice the stop request, so after the grace period the process ends regardless,
    and its children with it."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\nexec sleep 173\n", encoding="utf-8")
    (fake / "git").chmod(0o755)
    process, lines = watch_process(tree, tmp_path, env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    try:
        assert stop_when_serving(process, lines) < 12
        wait_for(lambda: any("did not stop within 5 s: ending the process and its workers now" in line
                             for line in lines), what="the log line")
        assert not [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == b"sleep\x00173\x00"]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_labels_fifo_stops_watch_at_start_with_one_line(tree, tmp_path):
    os.mkfifo(tmp_path / "labels.tsv")
    (tmp_path / "gapscan.toml").write_text(f'labels = "{tmp_path / "labels.tsv"}"\n', encoding="utf-8")
    process, lines = watch_process(tree, tmp_path, "--config", str(tmp_path / "gapscan.toml"))
    try:
        assert process.wait(timeout=60) == 2
        time.sleep(0.5)  # the log reader takes the last lines
        errors = [line for line in "".join(lines).splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "a FIFO (named pipe), not a regular file: never opened" in errors[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
