"""Discovery: which files under the scanned root are documents to read.

In a git work tree the tracked files are taken (``all_files`` takes every file instead; a folder
where git tracks nothing is read in full); include and
exclude patterns are gitignore-style. Office lock files and VCS folders are skipped, symlinked folders
are followed once (loops are cut), and every path is reported relative to the root with ``/``.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from gapscan.scanner.documents import format_of

VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# Why a file seen is not read (lock, junk and VCS files are passed over without a count).
UNSUPPORTED, EXCLUDED = "unsupported", "excluded"


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
    not_read: dict[str, Counter[str]] = field(default_factory=dict)  # reason -> file type -> files


class FileFilter:
    """Which relative paths are documents to read: a known format, not a lock or junk file, inside
    ``include`` (when given) and outside ``exclude`` (both gitignore-style)."""

    def __init__(self, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()):
        self._included = pathspec.GitIgnoreSpec.from_lines(include) if include else None
        self._excluded = pathspec.GitIgnoreSpec.from_lines(exclude)

    def format_for(self, relative: str) -> str | None:
        """The document format of a path we should read, or None."""
        return self.sort(relative)[0]

    def sort(self, relative: str) -> tuple[str | None, str]:
        """``(format, "")`` for a document to read, else ``(None, why)``: :data:`EXCLUDED` by the
        patterns, :data:`UNSUPPORTED` type, or "" for a lock, junk or VCS file."""
        parts = relative.split("/")
        name = parts[-1]
        if name.startswith("~$") or name in JUNK_FILES or any(p in VCS_FOLDERS for p in parts[:-1]):
            return None, ""
        if self._included is not None and not self._included.match_file(relative):
            return None, EXCLUDED
        if self._excluded.match_file(relative):
            return None, EXCLUDED
        fmt = format_of(name)
        return (fmt, "") if fmt is not None else (None, UNSUPPORTED)


def file_type(relative: str) -> str:
    """How files are counted by type: the lower-case suffix (".yml"), or a dot-file's whole name
    (".gitignore"), or "" for a name without a suffix."""
    name = relative.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name.lower() if dot == 0 else name[dot:].lower() if dot > 0 else ""


def stat_candidate(root: Path, relative: str, fmt: str) -> Candidate | None:
    """The file as it is now, or None when it is not a regular file. Raises OSError."""
    absolute = root / relative
    info = absolute.stat()
    if not stat.S_ISREG(info.st_mode):
        return None
    return Candidate(relative, absolute, fmt, info.st_size, info.st_mtime)


def _broken_link(root: Path, relative: str, fmt: str) -> Candidate | None:
    """A symlink that leads nowhere (dangling, or a loop) is still a document someone put there:
    it becomes a candidate with the link's own size and time, and reading it reports why not."""
    absolute = root / relative
    try:
        info = absolute.lstat()
    except OSError:
        return None
    if not stat.S_ISLNK(info.st_mode):
        return None
    return Candidate(relative, absolute, fmt, info.st_size, info.st_mtime)


# Characters a report shows escaped in a path: C0 and C1 controls (a newline or an ANSI escape in a
# file name would break lines and tables, or drive a terminal) and lone surrogates.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def display_path(path: str) -> str:
    """A path as reports show it. Most paths are returned unchanged. A name that was not valid UTF-8
    (Python holds its undecodable bytes as lone surrogates, which no UTF-8 writer accepts) or that
    holds control characters is shown with those bytes as ``\\xNN`` and every backslash doubled,
    so the exact bytes can be recovered: ``codecs.escape_decode(shown.encode())[0]``."""
    if not _UNSHOWABLE.search(path):
        return path
    raw = path.encode("utf-8", "surrogateescape").replace(b"\\", b"\\\\")
    shown = raw.decode("utf-8", "backslashreplace")
    return _UNSHOWABLE.sub(lambda match: "".join(map("\\x{:02x}".format, match.group(0).encode())), shown)


def discover(
    root: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    all_files: bool = False,
    skip: tuple[Path, ...] = (),
    seen: Callable[[int], None] | None = None,
) -> Discovery:
    """Find the documents under ``root``. ``skip`` holds folders never to descend into (our output)
    and files that are not documents (our labels file). ``seen`` hears, now and then, how many
    files have been looked at so far (a big share takes a while to list)."""
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
        paths = walk_files(root, skip_resolved, warnings, seen)

    candidates = []
    not_read: dict[str, Counter[str]] = {}
    for number, relative in enumerate(paths, 1):
        if seen is not None and tracked is not None and number % _SEEN_EVERY == 0:
            seen(number)  # in a repository the listing is instant; reading each file's size is not
        fmt, passed_over = wanted.sort(relative)
        if fmt is None or root / relative in skip_resolved:  # a skipped file: the labels file, say
            if passed_over and root / relative not in skip_resolved:  # our waivers file is no loss
                not_read.setdefault(passed_over, Counter())[file_type(relative)] += 1
            continue
        try:
            candidate = stat_candidate(root, relative, fmt)
        except OSError as exc:
            candidate = _broken_link(root, relative, fmt)
            if candidate is None:
                warnings.append(f"{display_path(relative)}: cannot read: {exc.strerror or exc}")
                continue
        if candidate is not None:
            candidates.append(candidate)

    candidates.sort(key=lambda c: c.path)
    commit_dates = _commit_dates(root) if tracked is not None else {}
    return Discovery(root, tuple(candidates), tracked is not None, commit_dates, tuple(warnings), not_read)


_SEEN_EVERY = 200  # files between two calls of a ``seen`` callback


def walk_files(root: Path, skip: set[Path], warnings: list[str],
               seen: Callable[[int], None] | None = None) -> list[str]:
    """Every file below ``root``, relative to it. Iterative (a folder nested thousands deep would
    exhaust the recursion of ``os.walk``); folders are recognised by device and inode, so a symlink
    loop or a second link to a folder is read once, and ``skip`` folders are never entered."""
    found: list[str] = []
    seen_folders: set[tuple[int, int]] = set()
    skip_keys = {key for key in map(_folder_key, skip) if key is not None}
    stack: list[tuple[str, str]] = [(str(root), "")]  # (absolute folder, relative folder)
    while stack:
        folder, relative_folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError as error:  # gone since it was listed, or a path longer than the OS allows
            warnings.append(f"{_short(relative_folder)}: cannot list folder: {error.strerror or error}")
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_folders or key in skip_keys:
            continue  # a symlink loop, a second link to a folder we read, or our own output
        seen_folders.add(key)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            warnings.append(f"{_short(relative_folder) or '.'}: cannot list folder: {error.strerror or error}")
            continue
        subfolders = []
        for entry in entries:
            relative = f"{relative_folder}/{entry.name}" if relative_folder else entry.name
            try:
                is_folder = entry.is_dir()  # follows symlinks, as discovery does
            except OSError:
                is_folder = False
            if not is_folder:
                found.append(relative)
                if seen is not None and len(found) % _SEEN_EVERY == 0:
                    seen(len(found))
            elif entry.name not in VCS_FOLDERS:
                subfolders.append((entry.path, relative))
        stack.extend(reversed(subfolders))
    return found


def _short(relative: str, limit: int = 200) -> str:
    """A path for a warning: shown as reports show paths, its middle cut when it is very long
    (a folder nested thousands deep)."""
    shown = display_path(relative)
    if len(shown) <= limit:
        return shown
    half = (limit - 1) // 2
    return f"{shown[:half]}…{shown[-half:]}"


def _folder_key(folder: str | Path) -> tuple[int, int] | None:
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(
            # A CI job or a service often runs as another user than the checkout's owner; git then
            # refuses the repository ("dubious ownership") and we would silently read every file.
            ["git", "-c", "safe.directory=*", "-C", str(root), *args],
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
    listing = _git(root, "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--recurse-submodules", "--", ".")
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
