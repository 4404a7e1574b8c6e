"""From watchdog events to the change queue: which root-relative paths an event touches, and what
is ignored (our own index, VCS internals apart from the git index, anything outside the root)."""

from __future__ import annotations

import os
from pathlib import Path

from watchdog.events import FileSystemEvent

from gapscan.scanner.discover import VCS_FOLDERS, FileFilter
from gapscan.scanner.watch.queue import RESYNC, ChangeQueue, look_at

_GIT_STATE = frozenset({".git/index", ".git/HEAD"})


class EventMapper:
    """Puts what an event changed into ``queue`` (called on the observer's thread)."""

    def __init__(self, root: Path, index_path: Path, file_filter: FileFilter, queue: ChangeQueue):
        self.root = root
        self.index_path = index_path
        self.filter = file_filter
        self.queue = queue
        self._root_prefix = str(self.root).rstrip(os.sep) + os.sep
        self._ignored = self._ignored_paths()

    def __call__(self, event: FileSystemEvent) -> None:
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
            relative = self.relative(place)
            if relative is None:
                continue
            if event.is_directory:
                self.queue.put(relative, folder=True)
            elif self.filter.format_for(relative) is not None:
                self.queue.put(relative, look_at(place))
            elif relative in _GIT_STATE:
                self.queue.put(RESYNC)  # a commit, checkout or pull: tracked files and dates changed

    def relative(self, place: str) -> str | None:
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
