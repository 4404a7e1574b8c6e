"""The watchdog observer of the root: its life cycle (native notifications, or polling for network
shares and when the kernel runs out of inotify watches), whether it still runs, and the alarm that
turns watchdog's "queue overflow" log line (events were lost) into a full comparison."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
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

log = logging.getLogger("gapscan.watch")

DEFAULT_POLL_SECONDS = 5.0

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
_WATCHDOG_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")


class _Handler(FileSystemEventHandler):
    def __init__(self, on_event: Callable[[FileSystemEvent], None]):
        self.on_event = on_event

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # noqa: BLE001 - an event we cannot place must not kill the observer
            log.exception("cannot handle %r", event)


class _OverflowAlarm(logging.Handler):
    """watchdog only logs that the kernel's inotify queue overflowed (events were lost): when it
    says so, the tree is compared with the index again."""

    def __init__(self, on_overflow: Callable[[], None]):
        super().__init__(logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if "overflow" in record.getMessage().lower():
                self.on_overflow()
        except Exception:  # noqa: BLE001 - never let logging fail
            pass


class TreeObserver:
    """Watches ``root`` recursively and hands every event to ``on_event`` (on watchdog's thread);
    ``on_overflow`` is called when watchdog says events were lost. ``kind`` says how it watches
    ("inotify", "polling every 5 s"...)."""

    def __init__(self, root: Path, poll: float | None, on_event: Callable[[FileSystemEvent], None],
                 on_overflow: Callable[[], None]):
        self.root = root
        self.poll = poll
        self.kind = ""
        self._handler = _Handler(on_event)
        self._alarm = _OverflowAlarm(on_overflow)
        self._observer: BaseObserver | None = None

    @property
    def started(self) -> bool:
        return self._observer is not None

    def listen_for_overflow(self, listening: bool) -> None:
        """Hear (or stop hearing) watchdog's overflow warnings."""
        for name in _WATCHDOG_LOGGERS:
            if listening:
                logging.getLogger(name).addHandler(self._alarm)
            else:
                logging.getLogger(name).removeHandler(self._alarm)

    def start(self) -> str:
        """Start watching; falls back to polling when the kernel has no inotify watch left. Returns
        how it watches."""
        handler = self._handler
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
        self.kind = kind
        return kind

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            _discard(observer)

    def alive(self) -> bool:
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        try:
            return all(emitter.is_alive() for emitter in list(observer.emitters))
        except RuntimeError:  # the set changed while we looked
            return True


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
