"""``gapscan watch``: keep the report current while the documents change.

A watchdog observer (inotify, or a ``PollingObserver`` for network shares where inotify never
fires) feeds a debounced change queue; one worker thread takes the queued paths in batches and
runs them through the same :class:`~gapscan.scanner.pipeline.Scanner` that ``gapscan scan`` uses:
``sync()`` once at start-up (only what differs from the index is read), ``update(paths)`` per
batch, then ``report()``, ``record()`` and ``write_reports`` (atomic writes).

Threads: the observer's own (watchdog), one worker (``gapscan-watch``), and with ``serve`` the
HTTP server (``gapscan-serve``) with its request threads. The worker owns the scanner and its
SQLite index; the other threads only put paths into the queue or read the status.

Debouncing: events are coalesced per path; a batch is taken once no event has arrived for
``debounce`` seconds (or ``max_delay`` after its first event, so a tree that never stops changing
still gets reports). Before a file is read, its size and modification time must be the same as when
its last event arrived; a file still being written is put back and retried once it is stable.

The watched root can disappear (an unmounted share, a renamed folder): the worker notices, keeps
the last report, stops the observer and waits for the root to come back, then catches up with a
full ``sync()`` and watches again. Nothing of this stops the service.

``/health`` tells the truth: besides the status it lists ``problems`` (the last update failed, as
writing to a full disk does; the index file was deleted or replaced; a batch has made no progress
for ``stuck_after`` seconds), and any problem makes it answer 503. A deleted or replaced index is
also written anew from what the service knows, so no work is lost at the next start.

Stopping is prompt: the worker looks at the stop request at every file, every quarter second while
a file is being read, and every thousand entries of a folder walk; the command line gives it
``STOP_GRACE_SECONDS`` and then ends the process (and its extraction workers) regardless.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from gapscan.reports.gate import Publication
from gapscan.reports.model import GapReport
from gapscan.scanner.config import Config
from gapscan.scanner.discover import VCS_FOLDERS, FileFilter, walk_files
from gapscan.scanner.index import default_index_path
from gapscan.scanner.output import DEFAULT_FORMATS, check_output, write_reports
from gapscan.scanner.pipeline import Scanner, ScanStats

log = logging.getLogger("gapscan.watch")

DEFAULT_POLL_SECONDS = 5.0
DEFAULT_DEBOUNCE_SECONDS = 0.5
DEFAULT_MAX_DELAY_SECONDS = 30.0
DEFAULT_ROOT_CHECK_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
# How long a stop may take before the command line ends the process regardless.
STOP_GRACE_SECONDS = 5.0
# Statuses in which the service does its job (with no problem, /health answers 200).
WORKING = ("watching", "updating", "catching_up")

# The events that can change what a document says, or whether it exists. Opening and reading a
# file (which our own extraction does) and folder metadata changes are not asked for.
WATCHED_EVENTS = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
# A queue entry that is not a path: "compare the whole tree with the index" (after lost events,
# a git checkout, SIGHUP). It is debounced like any change.
RESYNC = "\x00resync"
_GIT_STATE = frozenset({".git/index", ".git/HEAD"})

Look = tuple[int, int] | None  # (size, mtime in ns) of a regular file; None: absent


def look_at(path: str | os.PathLike) -> Look:
    """What the filesystem says about a file now: size and mtime, or None when it is not there."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns)


@dataclass
class _Change:
    first: float  # monotonic time of the first event since the path was last taken
    last: float  # monotonic time of the latest event
    look: Look  # the file as it was at the latest event
    folder: bool


class ChangeQueue:
    """Changed paths, coalesced per path, released in batches once the tree has been quiet for
    ``debounce`` seconds (or ``max_delay`` seconds after the oldest change, whichever is first)."""

    def __init__(self, debounce: float = DEFAULT_DEBOUNCE_SECONDS, max_delay: float = DEFAULT_MAX_DELAY_SECONDS):
        self.debounce = debounce
        self.max_delay = max(max_delay, debounce)
        self._cond = threading.Condition()
        self._changes: dict[str, _Change] = {}
        self._first = 0.0
        self._last = 0.0
        self._woken = False

    def put(self, path: str, look: Look = None, folder: bool = False) -> None:
        now = time.monotonic()
        with self._cond:
            change = self._changes.get(path)
            if change is None:
                if not self._changes:
                    self._first = now
                    self._cond.notify_all()  # the worker may be waiting without a deadline for us
                self._changes[path] = _Change(now, now, look, folder)
            else:
                change.last, change.look, change.folder = now, look, change.folder or folder
            self._last = now

    def wake(self) -> None:
        """Make a waiting :meth:`take` return now (to stop, or to look at the root)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._changes = {}

    def __len__(self) -> int:
        with self._cond:
            return len(self._changes)

    def take(self, timeout: float) -> dict[str, _Change]:
        """The next batch once it is due; an empty dict after ``timeout`` or :meth:`wake`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._woken:
                    self._woken = False
                    return {}
                now = time.monotonic()
                wake_at = deadline
                if self._changes:
                    due = min(self._last + self.debounce, self._first + self.max_delay)
                    if now >= due:
                        batch, self._changes = self._changes, {}
                        return batch
                    wake_at = min(due, deadline)
                if now >= deadline:
                    return {}
                self._cond.wait(wake_at - now)


def split_stable(root: Path, changes: dict[str, _Change]) -> tuple[list[str], dict[str, Look]]:
    """Split changed files into those that are stable (size and modification time the same now as
    at their last event, or gone both times) and those still changing (with how they look now)."""
    stable, changing = [], {}
    for path, change in changes.items():
        now = look_at(root / path)
        if now == change.look:
            stable.append(path)
        else:
            changing[path] = now
    return stable, changing


@dataclass(frozen=True)
class BatchSummary:
    """One processed batch (or catch-up), as logged and shown by ``/health``."""

    kind: str  # "batch", "start-up", "resync", "root returned", ...
    files: int  # paths examined
    changed: tuple[str, ...]  # read again (or newly added)
    removed: tuple[str, ...]  # no longer evidence
    unstable: int  # still being written: put back
    seconds: float
    coverage: dict[str, float]  # after the batch
    finished: str  # ISO time


class _Abandoned(Exception):
    """Raised inside the pipeline (through its progress callback) when the service is stopping."""


class _Handler(FileSystemEventHandler):
    def __init__(self, service: WatchService):
        self.service = service

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self.service._on_event(event)
        except Exception:  # noqa: BLE001 - an event we cannot place must not kill the observer
            log.exception("cannot handle %r", event)


class _OverflowAlarm(logging.Handler):
    """watchdog only logs that the kernel's inotify queue overflowed (events were lost): when it
    says so, the tree is compared with the index again."""

    def __init__(self, service: WatchService):
        super().__init__(logging.WARNING)
        self.service = service

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if "overflow" in record.getMessage().lower():
                self.service.request_resync()
        except Exception:  # noqa: BLE001 - never let logging fail
            pass


_WATCHDOG_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")


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
        self.poll = poll
        self.root_check = root_check
        self.serve_address = serve
        self.refresh = refresh
        # A batch with no file done for this long is stuck: longer than any one file may take.
        self.stuck_after = stuck_after or max(120.0, 2 * config.limits.timeout_seconds + 60)
        self.publication = Publication(link_base=link_base)  # where the report links its documents
        self.queue = ChangeQueue(debounce, max_delay)
        self.filter = FileFilter(config.include, config.exclude)
        self.error: BaseException | None = None  # why the service could not start or run
        self.batches: list[BatchSummary] = []  # the latest ones, oldest first
        self.last_sync: ScanStats | None = None

        self._root_prefix = str(self.root).rstrip(os.sep) + os.sep
        self._ignored = self._ignored_paths()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()  # guards the status below
        self._status = "created"
        self._root_available = True
        self._report_summary: dict | None = None
        self._coverage: dict[str, float] = {}
        self._last_scan: str | None = None
        self._in_flight = 0
        self._heartbeat = time.monotonic()  # when the worker last made progress
        self._last_progress: tuple[str, int] = ("", 0)
        self._problem: str | None = None  # why the last update failed
        self.stop_requested: float | None = None  # monotonic time of the stop request
        self._observer_kind = ""
        self._started = datetime.now(timezone.utc)
        self._thread: threading.Thread | None = None
        self._server = None
        self._server_thread: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._scanner: Scanner | None = None
        self._identity: tuple[int, int] | None = None
        self._mounted = False
        self._pending_sync: str | None = None
        self._failures = 0
        self._stale = False  # the reports on disk are behind the evidence (a write failed)
        self._alarm = _OverflowAlarm(self)

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
            host, port = self._server.server_address[:2]
            shown = f"[{host}]" if ":" in host else host
            log.info("serving %s at http://%s:%d/ (health: /health)", self.out_dir, shown, port)

    @property
    def url(self) -> str | None:
        """Where the reports are served, once started with ``serve``."""
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

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
        problems = self.problems()
        with self._lock:
            summary = self._report_summary or {}
            last = self.batches[-1] if self.batches else None
            return {
                "status": self._status,
                "problems": problems,
                "root": str(self.root),
                "root_available": self._root_available,
                "observer": self._observer_kind,
                "last_scan": self._last_scan,
                "documents": summary.get("documents"),
                "readable": summary.get("readable"),
                "queue": len(self.queue),
                "in_flight": self._in_flight,
                "coverage": dict(self._coverage),
                "last_batch": None if last is None else {
                    "kind": last.kind, "files": last.files, "changed": len(last.changed),
                    "removed": len(last.removed), "seconds": round(last.seconds, 3), "finished": last.finished,
                },
                "started": self._started.replace(microsecond=0).isoformat(),
            }

    def problems(self) -> list[str]:
        """What is wrong now: the last update failed, the index file is gone, a batch is stuck."""
        with self._lock:
            status, problem, quiet = self._status, self._problem, time.monotonic() - self._heartbeat
        found = [problem] if problem else []
        scanner = self._scanner
        lost = scanner.index.lost() if scanner is not None and status not in ("stopped", "failed") else None
        if lost:
            found.append(lost)
        if status in ("updating", "catching_up") and quiet > self.stuck_after:
            found.append(f"stuck: {status.replace('_', ' ')} has made no progress for {quiet:.0f} s")
        return found

    def _set(self, **values) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(self, f"_{key}", value)

    # -- events (observer thread) ----------------------------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        source = os.fsdecode(event.src_path)
        if event.is_directory:
            if kind == "deleted" and source.rstrip(os.sep) == str(self.root):
                self.queue.wake()  # the root itself is gone: the worker looks at it now
                return
            if kind not in ("created", "deleted", "moved"):
                return
        places = [source]
        if kind == "moved":
            places.append(os.fsdecode(event.dest_path))
        for place in places:
            relative = self._relative(place)
            if relative is None:
                continue
            if event.is_directory:
                self.queue.put(relative, folder=True)
            elif self.filter.format_for(relative) is not None:
                self.queue.put(relative, look_at(place))
            elif relative in _GIT_STATE:
                self.request_resync()  # a commit, checkout or pull: tracked files and dates changed

    def _relative(self, place: str) -> str | None:
        """The root-relative posix path of an event's path, or None for what we ignore: our own
        output and index, VCS internals (apart from the git index), anything outside the root."""
        if not place.startswith(self._root_prefix):
            return None
        relative = place[len(self._root_prefix):].replace(os.sep, "/").strip("/")
        if not relative:
            return None
        for ignored in self._ignored:
            if relative == ignored or relative.startswith(ignored + "/"):
                return None
        if relative in _GIT_STATE:
            return relative
        if any(part in VCS_FOLDERS for part in relative.split("/")):
            return None
        return relative

    def _ignored_paths(self) -> tuple[str, ...]:
        ignored = []  # (the output folder is never inside the root: start() refuses that)
        if self.index_path.is_relative_to(self.root):
            base = self.index_path.relative_to(self.root).as_posix()
            ignored += [base, f"{base}-wal", f"{base}-shm", f"{base}-journal"]
        return tuple(p for p in ignored if p != ".")

    # -- the worker ------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._scanner = Scanner(
                self.root, self.config, index_path=self.index_path, jobs=self.jobs, progress=self._progress,
            )
        except BaseException as exc:  # noqa: BLE001 - handed to start()
            self.error = exc
            self._set(status="failed")
            self._ready.set()
            return
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).addHandler(self._alarm)
        self._ready.set()
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - recorded for the CLI's exit code
            self.error = exc
            self._set(status="failed")
            log.critical("the watch service failed", exc_info=True)
        finally:
            for name in _WATCHDOG_LOGGERS:
                logging.getLogger(name).removeHandler(self._alarm)
            self._stop_observer()
            self._scanner.close()
            if self._status != "failed":
                self._set(status="stopped")
            log.info("stopped")

    def _loop(self) -> None:
        self._identity, self._mounted = self._root_identity()
        self._pending_sync = "start-up"
        self._set(status="starting")
        while not self._stop.is_set():
            try:
                problem, replaced = self._check_root()
                if problem:
                    self._wait_for_root(problem)
                    continue
                if replaced:
                    log.warning("%s was replaced (remounted?): watching it again and catching up", self.root)
                    self._stop_observer()
                    self._identity, self._mounted = self._root_identity()
                    self._pending_sync = "root replaced"
                if not self._observer_alive():
                    if self._observer is not None:
                        log.warning("the observer stopped: watching again and catching up")
                        self._pending_sync = self._pending_sync or "observer restarted"
                    self._start_observer()
                restored = self._scanner.restore_index()
                if restored:
                    log.warning("%s: written anew from what the service knows", restored)
                if self._pending_sync:
                    why, self._pending_sync = self._pending_sync, None
                    self._catch_up(why)
                    self._succeeded()
                    continue
                self._set(status="watching")
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
                self._set(problem=f"update failed: {exc}")
                log.error("update failed: %s; comparing the tree with the index again in %g s", exc, delay,
                          exc_info=log.isEnabledFor(logging.DEBUG))
                self._pending_sync = self._pending_sync or "retry"
                self._stop.wait(delay)
            finally:
                self._set(in_flight=0)
        self._set(status="stopping")

    def _succeeded(self) -> None:
        self._failures = 0
        self._set(problem=None)

    def _progress(self, stage: str, done: int, total: int) -> None:
        """Called by the pipeline at every file and while waiting for one: where a stop request ends
        the batch, and (when a file is done) the heartbeat that tells a slow batch from a stuck one."""
        if (stage, done) != self._last_progress:
            self._last_progress = (stage, done)
            self._set(heartbeat=time.monotonic())
        if self._stop.is_set():
            raise _Abandoned()

    # -- observer --------------------------------------------------------------------------------

    def _start_observer(self) -> None:
        handler = _Handler(self)
        if self.poll:
            observer: BaseObserver = PollingObserver(timeout=self.poll)
            kind = f"polling every {self.poll:g} s"
        else:
            observer, kind = Observer(), "native"
        try:
            observer.schedule(handler, str(self.root), recursive=True, event_filter=WATCHED_EVENTS)
            observer.start()
        except OSError as exc:
            _discard(observer)
            if self.poll or exc.errno not in (errno.ENOSPC, errno.EMFILE, errno.ENFILE):
                raise
            log.warning("cannot watch %s natively (%s): polling every %g s instead; raise "
                        "fs.inotify.max_user_watches or use --poll", self.root, exc.strerror or exc,
                        DEFAULT_POLL_SECONDS)
            observer = PollingObserver(timeout=DEFAULT_POLL_SECONDS)
            observer.schedule(handler, str(self.root), recursive=True, event_filter=WATCHED_EVENTS)
            observer.start()
            kind = f"polling every {DEFAULT_POLL_SECONDS:g} s"
        if kind == "native":
            kind = type(observer).__name__.removesuffix("Observer").lower() or "native"
        self._observer = observer
        self._set(observer_kind=kind)

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            _discard(observer)

    def _observer_alive(self) -> bool:
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        try:
            return all(emitter.is_alive() for emitter in list(observer.emitters))
        except RuntimeError:  # the set changed while we looked
            return True

    # -- the root --------------------------------------------------------------------------------

    def _root_identity(self) -> tuple[tuple[int, int] | None, bool]:
        try:
            info = os.stat(self.root)
        except OSError:
            return None, False
        return (info.st_dev, info.st_ino), os.path.ismount(self.root)

    def _check_root(self) -> tuple[str | None, bool]:
        """(why the root is unavailable or None, whether it is another folder than before)."""
        try:
            info = os.stat(self.root)
        except OSError as exc:
            return f"cannot be reached ({exc.strerror or exc})", False
        if not stat.S_ISDIR(info.st_mode):
            return "is no longer a folder", False
        if self._mounted and not os.path.ismount(self.root):
            return "is no longer mounted", False
        identity = (info.st_dev, info.st_ino)
        if self._identity is None or identity == self._identity:
            return None, self._identity is None
        try:
            with os.scandir(self.root) as entries:
                empty = next(entries, None) is None
        except OSError as exc:
            return f"cannot be listed ({exc.strerror or exc})", False
        if empty and info.st_dev != self._identity[0] and self._scanner is not None and self._scanner.results:
            return "is empty and on another device: the share looks unmounted", False
        return None, True

    def _wait_for_root(self, problem: str) -> None:
        log.warning("%s %s: keeping the last report and waiting for it to come back", self.root, problem)
        self._set(status="waiting_for_root", root_available=False)
        self._stop_observer()
        self.queue.clear()
        while not self._stop.wait(self.root_check):
            problem, _ = self._check_root()
            if problem is None:
                break
        else:
            return
        log.info("%s is back: catching up", self.root)
        self._identity, self._mounted = self._root_identity()
        self._set(root_available=True)
        self._pending_sync = "root returned"

    # -- updating --------------------------------------------------------------------------------

    def _catch_up(self, why: str) -> None:
        """Compare the whole tree with the index (only new and changed files are read), then
        publish the reports."""
        started = time.monotonic()
        self._set(status="catching_up", heartbeat=time.monotonic())
        scanner = self._scanner
        before, dates = dict(scanner.results), dict(scanner.commit_dates)
        stats = scanner.sync()
        self.last_sync = stats
        if self._check_root()[0]:
            self._pending_sync = why  # the root went away while we read it: wait for it, then again
            return
        changed = tuple(sorted(p for p, r in scanner.results.items() if before.get(p) is not r))
        removed = tuple(sorted(p for p in before if p not in scanner.results))
        if why != "start-up" and not (changed or removed or self._stale) and dates == scanner.commit_dates:
            summary = self._remember(why, stats.discovered, (), (), 0, started, dict(self._coverage))
            log.info("%s: %s in %.2f s; nothing changed", why, _plural(stats.discovered, "document"),
                     summary.seconds)
            return
        coverage, previous = self._publish()
        summary = self._remember(why, stats.discovered, changed, removed, 0, started, coverage)
        log.info(
            "%s: %s (%d read, %d from the index, %d removed) in %.2f s; %s",
            why, _plural(stats.discovered, "document"), stats.extracted, stats.reused, len(removed), summary.seconds,
            _coverage_text(coverage, previous if why != "start-up" else None),
        )

    def _process(self, batch: dict[str, _Change]) -> None:
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
        self._set(status="updating", in_flight=len(ready), heartbeat=time.monotonic())
        scanner = self._scanner
        before = {p: scanner.results.get(p) for p in ready}
        stats = scanner.update(ready)
        log.debug("read %d and classified %d file(s) in %.2f s", stats.extracted, len(ready), stats.seconds)
        changed = tuple(sorted(p for p in ready if scanner.results.get(p, before[p]) is not before[p]))
        removed = tuple(sorted(p for p in ready if before[p] is not None and p not in scanner.results))
        if not (changed or removed or self._stale):
            summary = self._remember("batch", len(ready), (), (), unstable, started, dict(self._coverage))
            log.info("batch: %s in %.2f s; nothing changed", _files(len(ready), 0, 0, unstable), summary.seconds)
            return
        if self._check_root()[0]:
            self._pending_sync = "catch-up"  # files vanished with the root, not one by one: don't publish
            return
        coverage, previous = self._publish()
        summary = self._remember("batch", len(ready), changed, removed, unstable, started, coverage)
        log.info("batch: %s in %.2f s; %s", _files(len(ready), len(changed), len(removed), unstable),
                 summary.seconds, _coverage_text(coverage, previous))

    def _settle(self, batch: dict[str, _Change]) -> tuple[list[str], int]:
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

    def _expand_folder(self, folder: str, batch: dict[str, _Change], ready: set[str]) -> None:
        """A folder created, deleted or moved: every document known under it is looked at again;
        documents found on disk under it that no event told us about are queued."""
        prefix = folder + "/"
        ready.update(p for p in self._scanner.results if p.startswith(prefix))
        absolute = self.root / folder
        if not absolute.is_dir():
            return
        confined = None if self.config.follow_symlinks_outside else self.root
        for inside in walk_files(absolute, set(), [], inside=confined):  # iterative: deep nesting is fine
            relative = f"{prefix}{inside}"
            if relative in batch or relative in ready or self.filter.format_for(relative) is None:
                continue
            self.queue.put(relative, look_at(str(absolute / inside)))

    def _publish(self) -> tuple[dict[str, float], dict[str, float]]:
        """Assess, record and write every report; returns (coverage now, coverage before)."""
        started = time.monotonic()
        report: GapReport = self._scanner.report()
        report = self._scanner.record(report)  # with the scan history, for the HTML trend
        assessed = time.monotonic()
        self._stale = True
        write_reports(report, self.out_dir, self.formats, publication=self.publication)
        self._stale = False
        log.debug("assessed in %.2f s, wrote %s in %.2f s", assessed - started, ",".join(self.formats),
                  time.monotonic() - assessed)
        coverage = {f.id: f.coverage for f in report.frameworks}
        with self._lock:
            previous = self._coverage
            self._coverage = coverage
            self._report_summary = dict(report.summary)
            self._last_scan = report.generated_at
        return coverage, previous

    def _remember(self, kind, files, changed, removed, unstable, started, coverage) -> BatchSummary:
        summary = BatchSummary(
            kind, files, tuple(changed), tuple(removed), unstable, time.monotonic() - started, coverage,
            datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        )
        with self._lock:
            self.batches.append(summary)
            del self.batches[:-100]
        return summary


def _discard(observer: BaseObserver) -> None:
    """Stop an observer and its emitters, whether or not it was started."""
    try:
        # stop() also when it never started: it unschedules the watches and ends the inotify
        # reader thread that an inotify observer starts as soon as it is created.
        observer.stop()
        if observer.is_alive():
            observer.join(10)
    except Exception:  # noqa: BLE001 - a half-started observer may refuse; nothing to keep
        log.debug("stopping the observer failed", exc_info=True)


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
