"""Discovery: which files under the scanned root are documents to read.

In a git work tree the tracked files are taken (``all_files`` takes every file instead; a folder
where git tracks nothing is read in full); include and
exclude patterns are gitignore-style. Office lock files and VCS folders are skipped, symlinked folders
are followed once (loops are cut), and every path is reported relative to the root with ``/``.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from gapscan.scanner.documents import format_of

VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class Candidate:
    """A file discovery found: where it is, and what the filesystem says about it."""

    path: str  # relative to the root, with "/"
    absolute: Path
    format: str
    size: int
    mtime: float


@dataclass(frozen=True)
class Discovery:
    root: Path
    candidates: tuple[Candidate, ...]
    git: bool = False
    commit_dates: dict[str, str] = field(default_factory=dict)  # path -> ISO date of last commit
    warnings: tuple[str, ...] = ()


class FileFilter:
    """Which relative paths are documents to read: a known format, not a lock or junk file, inside
    ``include`` (when given) and outside ``exclude`` (both gitignore-style)."""

    def __init__(self, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()):
        self._included = pathspec.GitIgnoreSpec.from_lines(include) if include else None
        self._excluded = pathspec.GitIgnoreSpec.from_lines(exclude)

    def format_for(self, relative: str) -> str | None:
        """The document format of a path we should read, or None."""
        parts = relative.split("/")
        name = parts[-1]
        if name.startswith("~$") or name in JUNK_FILES or any(p in VCS_FOLDERS for p in parts[:-1]):
            return None
        fmt = format_of(name)
        if fmt is None:
            return None
        if self._included is not None and not self._included.match_file(relative):
            return None
        if self._excluded.match_file(relative):
            return None
        return fmt


def stat_candidate(root: Path, relative: str, fmt: str) -> Candidate | None:
    """The file as it is now, or None when it is not a regular file. Raises OSError."""
    absolute = root / relative
    info = absolute.stat()
    if not stat.S_ISREG(info.st_mode):
        return None
    return Candidate(relative, absolute, fmt, info.st_size, info.st_mtime)


def discover(
    root: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    all_files: bool = False,
    skip: tuple[Path, ...] = (),
) -> Discovery:
    """Find the documents under ``root``. ``skip`` holds folders never to descend into (our output)."""
    root = root.resolve()
    wanted = FileFilter(include, exclude)
    skip_resolved = {p.resolve() for p in skip}
    warnings: list[str] = []

    tracked = None if all_files else git_tracked(root)
    if not tracked:  # not a repository, or a folder git does not track (ignored, generated): read it all
        tracked = None
    if tracked is not None:
        paths = _from_git(root, tracked, skip_resolved)
    else:
        paths = _walk(root, skip_resolved, warnings)

    candidates = []
    for relative in paths:
        fmt = wanted.format_for(relative)
        if fmt is None:
            continue
        try:
            candidate = stat_candidate(root, relative, fmt)
        except OSError as exc:
            warnings.append(f"{relative}: cannot read: {exc.strerror or exc}")
            continue
        if candidate is not None:
            candidates.append(candidate)

    candidates.sort(key=lambda c: c.path)
    commit_dates = _commit_dates(root) if tracked is not None else {}
    return Discovery(root, tuple(candidates), tracked is not None, commit_dates, tuple(warnings))


def _walk(root: Path, skip: set[Path], warnings: list[str]) -> list[str]:
    found: list[str] = []
    seen_folders: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        relative = _relative(root, where) or "."
        warnings.append(f"{relative}: cannot list folder: {error.strerror or error}")

    for folder, subfolders, files in os.walk(root, followlinks=True, onerror=on_error):
        here = Path(folder)
        try:
            info = here.stat()
        except OSError:
            subfolders[:] = []
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_folders:  # a symlink loop or a second link to a folder we already read
            subfolders[:] = []
            continue
        seen_folders.add(key)
        subfolders[:] = sorted(
            d for d in subfolders if d not in VCS_FOLDERS and (here / d).resolve() not in skip
        )
        relative_folder = _relative(root, here)
        for name in files:
            found.append(f"{relative_folder}/{name}" if relative_folder else name)
    return found


def _relative(root: Path, path: Path) -> str:
    relative = os.path.relpath(path, root)
    return "" if relative == "." else relative.replace(os.sep, "/")


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_tracked(root: Path) -> list[str] | None:
    """Tracked files below root, relative to root; None when root is not inside a git work tree."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != b"true":
        return None
    listing = _git(root, "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--", ".")
    if listing is None:
        return None
    return [p for p in listing.decode("utf-8", "surrogateescape").split("\0") if p]


def _from_git(root: Path, tracked: list[str], skip: set[Path]) -> list[str]:
    paths = []
    for relative in tracked:
        if skip and any((root / relative).resolve().is_relative_to(s) for s in skip):
            continue
        paths.append(relative)
    return paths


def _commit_dates(root: Path) -> dict[str, str]:
    """Date of the last commit touching each file, from one pass over the log."""
    log = _git(root, "-c", "core.quotepath=off", "log", "--format=%x01%cI", "--name-only", "--relative", "-z", "--", ".")
    if log is None:
        return {}
    dates: dict[str, str] = {}
    current = ""
    for token in log.decode("utf-8", "surrogateescape").split("\0"):
        token = token.strip("\n")
        if not token:
            continue
        if token.startswith("\x01"):
            header, _, first_path = token[1:].partition("\n")
            current = header[:10]
            token = first_path.strip("\n")
            if not token:
                continue
        dates.setdefault(token, current)
    return dates
