"""The change queue: changed paths, coalesced per path and released in debounced batches, and the
stability check that keeps a file still being written out of a batch."""

from __future__ import annotations

import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DEBOUNCE_SECONDS = 0.5
DEFAULT_MAX_DELAY_SECONDS = 30.0
# A queue entry that is not a path: "compare the whole tree with the index" (after lost events,
# a git checkout, SIGHUP). It is debounced like any change.
RESYNC = "\x00resync"

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
class Change:
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
        self._changes: dict[str, Change] = {}
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
                self._changes[path] = Change(now, now, look, folder)
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

    def take(self, timeout: float) -> dict[str, Change]:
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


def split_stable(root: Path, changes: dict[str, Change]) -> tuple[list[str], dict[str, Look]]:
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
