"""Is the watched root still the folder we watch? A share can be unmounted (leaving an empty mount
point behind), a folder deleted, renamed or replaced; the service asks :class:`RootMonitor` before
it trusts what the tree says."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEFAULT_ROOT_CHECK_SECONDS = 1.0


class RootMonitor:
    """Compares the root with the folder it was when last remembered.

    ``identity`` (device and inode) and ``mounted`` (whether it was a mount point) describe the
    root as last remembered; ``None`` identity means not yet remembered."""

    def __init__(self, root: Path):
        self.root = root
        self.identity: tuple[int, int] | None = None
        self.mounted = False

    def remember(self) -> None:
        """Take the root as it is now as the folder being watched."""
        self.identity, self.mounted = self._current()

    def _current(self) -> tuple[tuple[int, int] | None, bool]:
        try:
            info = os.stat(self.root)
        except OSError:
            return None, False
        return (info.st_dev, info.st_ino), os.path.ismount(self.root)

    def check(self, has_documents: bool) -> tuple[str | None, bool]:  # noqa: PLR0911  one answer per way a root is lost
        """(why the root is unavailable or None, whether it is another folder than before).
        ``has_documents``: the service knows documents under the root, so an empty root on another
        device is the bare mount point of an unmounted share, not an empty folder."""
        try:
            info = os.stat(self.root)
        except OSError as exc:
            return f"cannot be reached ({exc.strerror or exc})", False
        if not stat.S_ISDIR(info.st_mode):
            return "is no longer a folder", False
        if self.mounted and not os.path.ismount(self.root):
            return "is no longer mounted", False
        identity = (info.st_dev, info.st_ino)
        if self.identity is None or identity == self.identity:
            return None, self.identity is None
        try:
            with os.scandir(self.root) as entries:
                empty = next(entries, None) is None
        except OSError as exc:
            return f"cannot be listed ({exc.strerror or exc})", False
        if empty and info.st_dev != self.identity[0] and has_documents:
            return "is empty and on another device: the share looks unmounted", False
        return None, True
