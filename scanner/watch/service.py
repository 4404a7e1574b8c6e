"""The watch service: wires the observer, the change queue, the root monitor, the worker that
updates the reports and the status that ``/health`` shows.

A watchdog observer (:mod:`.observer`; inotify, or a ``PollingObserver`` for network shares where
inotify never fires) feeds a debounced change queue (:mod:`.queue`) through the event mapper
(:mod:`.events`); one worker thread takes the queued paths in batches and runs them through the
same :class:`~gapscan.scanner.pipeline.Scanner` that ``gapscan scan`` uses: ``sync()`` once at
start-up (only what differs from the index is read), ``update(paths)`` per batch, then
``report()``, ``record()`` and ``write_reports`` (atomic writes).

Threads: the observer's own (watchdog), one worker (``gapscan-watch``), and with ``serve`` the
HTTP server (``gapscan-serve``) with its request threads. The worker owns the scanner and its
SQLite index; the other threads only put paths into the queue or read the status.

Debouncing: events are coalesced per path; a batch is taken once no event has arrived for
``debounce`` seconds (or ``max_delay`` after its first event, so a tree that never stops changing
still gets reports). Before a file is read, its size and modification time must be the same as when
its last event arrived; a file still being written is put back and retried once it is stable.

The watched root can disappear (an unmounted share, a renamed folder): the worker notices
(:mod:`.root`), keeps the last report, stops the observer and waits for the root to come back, then
catches up with a full ``sync()`` and watches again. Nothing of this stops the service.

``/health`` tells the truth (:mod:`.status`): besides the status it lists ``problems`` (the last
update failed, as writing to a full disk does; the index file was deleted or replaced; a batch has
made no progress for ``stuck_after`` seconds), and any problem makes it answer 503. A deleted or
replaced index is also written anew from what the service knows, so no work is lost at the next
start.

Stopping is prompt: the worker looks at the stop request at every file, every quarter second while
a file is being read, and every thousand entries of a folder walk; the command line gives it
``STOP_GRACE_SECONDS`` and then ends the process (and its extraction workers) regardless.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from gapscan.reports.gate import Publication
from gapscan.reports.model import GapReport
from gapscan.scanner.config import Config
from gapscan.scanner.discover import FileFilter, walk_files
from gapscan.scanner.extract import stop_worker_server
from gapscan.scanner.index import default_index_path
from gapscan.scanner.output import DEFAULT_FORMATS, check_output, write_reports
from gapscan.scanner.pipeline import Scanner, ScanStats
from gapscan.scanner.watch.events import EventMapper
from gapscan.scanner.watch.observer import TreeObserver
from gapscan.scanner.watch.queue import (
    DEFAULT_DEBOUNCE_SECONDS,
    DEFAULT_MAX_DELAY_SECONDS,
    RESYNC,
    Change,
    ChangeQueue,
    look_at,
    split_stable,
)
from gapscan.scanner.watch.root import DEFAULT_ROOT_CHECK_SECONDS, RootMonitor
from gapscan.scanner.watch.status import BatchSummary, ServiceState

if TYPE_CHECKING:
    from gapscan.scanner.serve import ReportServer

log = logging.getLogger("gapscan.watch")

MAX_RETRY_SECONDS = 60.0
# How long a stop may take before the command line ends the process regardless.
STOP_GRACE_SECONDS = 5.0


class _Abandoned(Exception):
    """Raised inside the pipeline (through its progress callback) when the service is stopping."""


class WatchService:
    """Keeps the reports in ``out_dir`` current with the documents under ``root``."""

    def __init__(
        self,
        root: Path,
        config: Config,
        out_dir: Path,
        formats: tuple[str, ...] = DEFAULT_FORMATS,
        *,
        index_path: Path | None = None,
        jobs: int | None = None,
        poll: float | None = None,
        debounce: float = DEFAULT_DEBOUNCE_SECONDS,
        max_delay: float = DEFAULT_MAX_DELAY_SECONDS,
        root_check: float = DEFAULT_ROOT_CHECK_SECONDS,
        serve: tuple[str, int] | None = None,
        refresh: int = 30,
        stuck_after: float | None = None,
        link_base: str = "",
    ):
        self.root = root.resolve()
        self.config = config
        self.out_dir = out_dir.resolve()
        self.formats = formats
        self.index_path = (index_path or default_index_path(self.root)).resolve()
        self.jobs = jobs
        self.root_check = root_check
        self.serve_address = serve
        self.refresh = refresh
        self.publication = Publication(link_base=link_base)  # where the report links its documents
        self.queue = ChangeQueue(debounce, max_delay)
        self.events = EventMapper(self.root, self.index_path, FileFilter(config.include, config.exclude), self.queue)
        self.observer = TreeObserver(self.root, poll, self.events, self.request_resync)
        self.root_monitor = RootMonitor(self.root)
        # A batch with no file done for this long is stuck: longer than any one file may take.
        self.state = ServiceState(self.root, stuck_after or max(120.0, 2 * config.limits.timeout_seconds + 60))
        self.error: BaseException | None = None  # why the service could not start or run
        self.last_sync: ScanStats | None = None
        self.stop_requested: float | None = None  # monotonic time of the stop request

        # The worker's own: the scanner, what it must do next, how often it failed in a row.
        self._scanner: Scanner | None = None
        self._pending_sync: str | None = None
        self._failures = 0
        self._stale = False  # the reports on disk are behind the evidence (a write failed)
        self._last_progress: tuple[str, int] = ("", 0)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: ReportServer | None = None
        self._server_thread: threading.Thread | None = None

    @property
    def batches(self) -> list[BatchSummary]:
        """The latest batches, oldest first."""
        return self.state.batches

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the server (if asked), start the worker and wait until its scanner is ready.

        Raises what stops the service from starting: ``OSError`` (the address is taken),
        ``ConfigError``/``CatalogError`` (unknown framework), ``IndexUnusable``, ``OutputError``
        (the output folder is inside the root, or cannot be written).
        """
        self.out_dir = check_output(self.out_dir, self.root)
        # watchdog's inotify emitter warns (with its whole watch table, kilobytes per line) when a
        # folder created or moved in is registered twice; the second registration is harmless.
        warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning,
                                module="watchdog.observers.inotify")
        if self.serve_address is not None:
            from gapscan.scanner.serve import ReportServer

            self._server = ReportServer(self.serve_address, self.out_dir, self.health, refresh=self.refresh)
        self._thread = threading.Thread(target=self._run, name="gapscan-watch")
        self._thread.start()
        self._ready.wait()
        if self.error is not None:
            self._thread.join()
            self._close_server()
            raise self.error
        if self._server is not None:
            self._server_thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.25}, name="gapscan-serve"
            )
            self._server_thread.start()
            log.info("serving %s at %s/ (health: /health)", self.out_dir, self._server.url)

    @property
    def url(self) -> str | None:
        """Where the reports are served, once started with ``serve``."""
        if self._server is None:
            return None
        return self._server.url

    def stop(self, timeout: float | None = 60.0) -> bool:
        """Stop: abandon the batch in flight at the next file, stop watching, close the index and
        the server, and wait for every thread this service started, ``timeout`` seconds at most.
        True when everything stopped in time."""
        self.request_stop()
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._thread is not None:
            self._thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
        self._close_server(deadline)
        return self.wait(0)

    def request_stop(self) -> None:
        """Ask the worker to stop, without waiting (safe in a signal handler)."""
        if not self._stop.is_set():
            self.stop_requested = time.monotonic()
            self._stop.set()
            log.info("stopping")
        self.queue.wake()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end (after :meth:`stop`, or a fatal error); True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def request_resync(self) -> None:
        """Compare the whole tree with the index at the next batch (thread- and signal-safe)."""
        self.queue.put(RESYNC)

    def __enter__(self) -> WatchService:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _close_server(self, deadline: float | None = None) -> None:
        if self._server is not None:
            if self._server_thread is not None:
                self._server.shutdown()
                self._server_thread.join()
                self._server_thread = None
            self._server.server_close(deadline)

    # -- status ----------------------------------------------------------------------------------

    def health(self) -> dict:
        """The service's state for ``/health`` (JSON-ready); ``problems`` lists what keeps it from
        doing its job even while its status looks fine."""
        return self.state.health(self.problems(), len(self.queue))

    def problems(self) -> list[str]:
        """What is wrong now: the last update failed, the index file is gone, a batch is stuck."""
        scanner = self._scanner
        return self.state.problems(scanner.index.lost if scanner is not None else None)

    @property
    def _open_scanner(self) -> Scanner:
        """The worker's scanner, which exists from the worker's first step on."""
        if self._scanner is None:
            raise RuntimeError("the watch service's index is not open yet")
        return self._scanner

    # -- the worker ------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._scanner = Scanner(
                self.root, self.config, index_path=self.index_path, jobs=self.jobs, progress=self._progress,
            )
        except BaseException as exc:  # noqa: BLE001 - handed to start()
            self.error = exc
            self.state.set(status="failed")
            self._ready.set()
            return
        self.observer.listen_for_overflow(True)
        self._ready.set()
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - recorded for the CLI's exit code
            self.error = exc
            self.state.set(status="failed")
            log.critical("the watch service failed", exc_info=True)
        finally:
            self.observer.listen_for_overflow(False)
            self.observer.stop()
            self._scanner.close()
            stop_worker_server()
            if self.state.status != "failed":
                self.state.set(status="stopped")
            log.info("stopped")

    def _loop(self) -> None:
        self.root_monitor.remember()
        self._pending_sync = "start-up"
        self.state.set(status="starting")
        while not self._stop.is_set():
            try:
                problem, replaced = self._check_root()
                if problem:
                    self._wait_for_root(problem)
                    continue
                if replaced:
                    log.warning("%s was replaced (remounted?): watching it again and catching up", self.root)
                    self.observer.stop()
                    self.root_monitor.remember()
                    self._pending_sync = "root replaced"
                if not self.observer.alive():
                    if self.observer.started:
                        log.warning("the observer stopped: watching again and catching up")
                        self._pending_sync = self._pending_sync or "observer restarted"
                    self._start_observer()
                restored = self._open_scanner.restore_index()
                if restored:
                    log.warning("%s: written anew from what the service knows", restored)
                if self._pending_sync:
                    why, self._pending_sync = self._pending_sync, None
                    self._catch_up(why)
                    self._succeeded()
                    continue
                self.state.set(status="watching")
                batch = self.queue.take(self.root_check)
                if batch and not self._stop.is_set():
                    self._process(batch)
                    self._succeeded()
            except _Abandoned:
                log.info("stopping: the batch in flight was abandoned; the next start catches up")
                break
            except Exception as exc:  # noqa: BLE001 - the service keeps going; the next try catches up
                self._failures += 1
                delay = min(MAX_RETRY_SECONDS, 2.0 ** (self._failures - 1))
                self.state.set(problem=f"update failed: {exc}")
                log.error("update failed: %s; comparing the tree with the index again in %g s", exc, delay,
                          exc_info=log.isEnabledFor(logging.DEBUG))
                self._pending_sync = self._pending_sync or "retry"
                self._stop.wait(delay)
            finally:
                self.state.set(in_flight=0)
        self.state.set(status="stopping")

    def _succeeded(self) -> None:
        self._failures = 0
        self.state.set(problem=None)

    def _progress(self, stage: str, done: int, total: int) -> None:
        """Called by the pipeline at every file and while waiting for one: where a stop request ends
        the batch, and (when a file is done) the heartbeat that tells a slow batch from a stuck one."""
        if (stage, done) != self._last_progress:
            self._last_progress = (stage, done)
            self.state.set(heartbeat=time.monotonic())
        if self._stop.is_set():
            raise _Abandoned()

    def _start_observer(self) -> None:
        self.state.set(observer_kind=self.observer.start())

    # -- the root --------------------------------------------------------------------------------

    def _check_root(self) -> tuple[str | None, bool]:
        """(why the root is unavailable or None, whether it is another folder than before)."""
        return self.root_monitor.check(has_documents=self._scanner is not None and bool(self._scanner.results))

    def _wait_for_root(self, problem: str) -> None:
        log.warning("%s %s: keeping the last report and waiting for it to come back", self.root, problem)
        self.state.set(status="waiting_for_root", root_available=False)
        self.observer.stop()
        self.queue.clear()
        while not self._stop.wait(self.root_check):
            if self._check_root()[0] is None:
                break
        else:
            return
        log.info("%s is back: catching up", self.root)
        self.root_monitor.remember()
        self.state.set(root_available=True)
        self._pending_sync = "root returned"

    # -- updating --------------------------------------------------------------------------------

    def _catch_up(self, why: str) -> None:
        """Compare the whole tree with the index (only new and changed files are read), then
        publish the reports."""
        started = time.monotonic()
        self.state.set(status="catching_up", heartbeat=time.monotonic())
        scanner = self._open_scanner
        before, dates = dict(scanner.results), dict(scanner.commit_dates)
        stats = scanner.sync()
        self.last_sync = stats
        if self._check_root()[0]:
            self._pending_sync = why  # the root went away while we read it: wait for it, then again
            return
        changed = tuple(sorted(p for p, r in scanner.results.items() if before.get(p) is not r))
        removed = tuple(sorted(p for p in before if p not in scanner.results))
        if why != "start-up" and not (changed or removed or self._stale) and dates == scanner.commit_dates:
            summary = self.state.remember(why, stats.discovered, changed=(), removed=(), unstable=0, started=started,
                                          coverage=dict(self.state.coverage))
            log.info("%s: %s in %.2f s; nothing changed", why, _plural(stats.discovered, "document"),
                     summary.seconds)
            return
        coverage, previous = self._publish()
        summary = self.state.remember(why, stats.discovered, changed=changed, removed=removed, unstable=0,
                                      started=started, coverage=coverage)
        log.info(
            "%s: %s (%d read, %d from the index, %d removed) in %.2f s; %s",
            why, _plural(stats.discovered, "document"), stats.extracted, stats.reused, len(removed), summary.seconds,
            _coverage_text(coverage, previous if why != "start-up" else None),
        )

    def _process(self, batch: dict[str, Change]) -> None:
        started = time.monotonic()
        if batch.pop(RESYNC, None) is not None:
            for path, change in batch.items():  # the tree-wide comparison covers the stable ones
                now = look_at(self.root / path)
                if not change.folder and now != change.look:
                    self.queue.put(path, now)
            self._catch_up("resync")
            return
        ready, unstable = self._settle(batch)
        if not ready:
            if unstable:
                log.debug("batch: %d file(s) still changing, retried once stable", unstable)
            return
        if self._check_root()[0]:
            self._pending_sync = "catch-up"  # the next turn waits for the root if it is really gone
            return
        self.state.set(status="updating", in_flight=len(ready), heartbeat=time.monotonic())
        scanner = self._open_scanner
        before = {p: scanner.results.get(p) for p in ready}
        stats = scanner.update(ready)
        log.debug("read %d and classified %d file(s) in %.2f s", stats.extracted, len(ready), stats.seconds)
        changed = tuple(sorted(p for p in ready if scanner.results.get(p, before[p]) is not before[p]))
        removed = tuple(sorted(p for p in ready if before[p] is not None and p not in scanner.results))
        if not (changed or removed or self._stale):
            summary = self.state.remember("batch", len(ready), changed=(), removed=(), unstable=unstable,
                                          started=started, coverage=dict(self.state.coverage))
            log.info("batch: %s in %.2f s; nothing changed", _files(len(ready), 0, 0, unstable), summary.seconds)
            return
        if self._check_root()[0]:
            self._pending_sync = "catch-up"  # files vanished with the root, not one by one: don't publish
            return
        coverage, previous = self._publish()
        summary = self.state.remember("batch", len(ready), changed=changed, removed=removed, unstable=unstable,
                                      started=started, coverage=coverage)
        log.info("batch: %s in %.2f s; %s", _files(len(ready), len(changed), len(removed), unstable),
                 summary.seconds, _coverage_text(coverage, previous))

    def _settle(self, batch: dict[str, Change]) -> tuple[list[str], int]:
        """The paths ready to read: files unchanged since their last event (or gone), and what a
        folder event stands for. Files still changing go back into the queue."""
        ready, changing = split_stable(self.root, {p: c for p, c in batch.items() if not c.folder})
        for path, look in changing.items():
            self.queue.put(path, look)
        found = set(ready)
        for path, change in batch.items():
            if change.folder:
                self._expand_folder(path, batch, found)
        return sorted(found), len(changing)

    def _expand_folder(self, folder: str, batch: dict[str, Change], ready: set[str]) -> None:
        """A folder created, deleted or moved: every document known under it is looked at again;
        documents found on disk under it that no event told us about are queued."""
        prefix = folder + "/"
        ready.update(p for p in self._open_scanner.results if p.startswith(prefix))
        absolute = self.root / folder
        if not absolute.is_dir():
            return
        confined = None if self.config.follow_symlinks_outside else self.root
        for inside in walk_files(absolute, set(), [], inside=confined):  # iterative: deep nesting is fine
            relative = f"{prefix}{inside}"
            if relative in batch or relative in ready or self.events.filter.format_for(relative) is None:
                continue
            self.queue.put(relative, look_at(str(absolute / inside)))

    def _publish(self) -> tuple[dict[str, float], dict[str, float]]:
        """Assess, record and write every report; returns (coverage now, coverage before)."""
        started = time.monotonic()
        report: GapReport = self._open_scanner.report()
        report = self._open_scanner.record(report)  # with the scan history, for the HTML trend
        assessed = time.monotonic()
        self._stale = True
        write_reports(report, self.out_dir, self.formats, publication=self.publication)
        self._stale = False
        log.debug("assessed in %.2f s, wrote %s in %.2f s", assessed - started, ",".join(self.formats),
                  time.monotonic() - assessed)
        coverage = {f.id: f.coverage for f in report.frameworks}
        previous = self.state.published(coverage, dict(report.summary), report.generated_at)
        return coverage, previous


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _files(count: int, changed: int, removed: int, unstable: int) -> str:
    text = f"{_plural(count, 'file')} ({changed} changed, {removed} removed"
    return text + (f", {unstable} still changing)" if unstable else ")")


def _coverage_text(now: dict[str, float], before: dict[str, float] | None) -> str:
    parts = []
    for framework, coverage in now.items():
        text = f"{framework} {coverage * 100:.1f}%"
        if before is not None and framework in before:
            delta = round((coverage - before[framework]) * 100, 1)
            text += " (=)" if delta == 0 else f" ({delta:+.1f})"
        parts.append(text)
    return ", ".join(parts) or "no frameworks"
