"""Discovery: which files under the scanned root are documents to read.

In a git work tree the tracked files are taken (``all_files`` takes every file instead; a folder
where git tracks nothing is read in full); include and
exclude patterns are gitignore-style. Office lock files and VCS folders are skipped, symlinked folders
are followed once (loops are cut), and every path is reported relative to the root with ``/``.

Only regular files inside the root are documents. A symlink whose target lies outside the root is
not followed (unless ``confined`` is off), and a FIFO, socket or device is never opened; each such
file is a :class:`Refusal` with its reason, which the reports list.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from gapscan.scanner.common.documents import format_of
from gapscan.scanner.common.git import run_git
from gapscan.scanner.common.names import display_path
from gapscan.scanner.common.reading import is_inside, not_regular, outside

__all__ = ["Candidate", "Discovery", "FileFilter", "Refusal", "discover", "display_path", "inspect", "walk_files"]

_SEEN_EVERY = 200  # files between two calls of a ``seen`` callback
VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# Why a file seen is not read (lock, junk and VCS files are passed over without a count).
UNSUPPORTED, EXCLUDED = "unsupported", "excluded"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file discovery found: where it is, and what the filesystem says about it."""

    path: str  # relative to the root, with "/"
    format: str
    size: int
    mtime: float


@dataclass(frozen=True)
class Refusal:
    """A file that is not read, and why (a symlink leading outside the root, a FIFO...)."""

    path: str  # relative to the root, with "/"
    reason: str

    def __str__(self) -> str:
        return f"{_short(self.path)}: {self.reason}"


@dataclass(frozen=True)
class Discovery:
    root: Path
    candidates: tuple[Candidate, ...]
    git: bool = False
    commit_dates: dict[str, str] = field(default_factory=dict)  # path -> ISO date of last commit
    warnings: tuple[str, ...] = ()  # folders that could not be listed or were not followed
    refused: tuple[Refusal, ...] = ()
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


def inspect(  # noqa: PLR0911  one return per state the file can be found in
        root: Path, relative: str, fmt: str, confined: bool = True,
        real_folders: dict[str, str] | None = None) -> Candidate | Refusal | None:
    """The file at ``relative`` as it is now: a candidate, a refusal, or None when it is not there.

    ``root`` is the resolved root. Confined, a file whose real path (every symlink followed) lies
    outside it is refused. A symlink that leads nowhere (dangling, or a loop) is still a document
    someone put there: a candidate with the link's own size and time, whose reading says why not.
    Nothing is opened here. ``real_folders`` keeps each folder's real path for the next file in
    it (a walk inspects thousands of files in a few hundred folders)."""
    absolute = os.path.join(root, relative)  # a string: a Path per file costs more than the lstat
    try:
        link = os.lstat(absolute)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Refusal(relative, f"cannot read: {exc.strerror or exc}")
    if confined:
        real = _real_path(absolute, link, real_folders)
        if not is_inside(real, str(root)):
            return Refusal(relative, outside(display_path(real)))
    try:
        info = os.stat(absolute) if stat.S_ISLNK(link.st_mode) else link
    except OSError as exc:
        if stat.S_ISLNK(link.st_mode):
            return Candidate(relative, fmt, link.st_size, link.st_mtime)
        if isinstance(exc, FileNotFoundError):
            return None
        return Refusal(relative, f"cannot read: {exc.strerror or exc}")
    if not stat.S_ISREG(info.st_mode):
        return Refusal(relative, not_regular(info.st_mode))
    return Candidate(relative, fmt, info.st_size, info.st_mtime)


def _real_path(absolute: str, link: os.stat_result, real_folders: dict[str, str] | None) -> str:
    """Where ``absolute`` really is: a file that is not itself a symlink is where its folder really is."""
    if real_folders is None or stat.S_ISLNK(link.st_mode):
        return os.path.realpath(absolute)
    folder = os.path.dirname(absolute)
    if folder not in real_folders:
        real_folders[folder] = os.path.realpath(folder)
    return os.path.join(real_folders[folder], os.path.basename(absolute))


def discover(
    root: Path,
    *,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    all_files: bool = False,
    skip: tuple[Path, ...] = (),
    confined: bool = True,
    seen: Callable[[int], None] | None = None,
) -> Discovery:
    """Find the documents under ``root``. ``skip`` holds folders never to descend into (our output)
    and files that are not documents (our labels file). ``confined``: symlinks are followed only
    where they lead to a place inside ``root``. ``seen`` hears, every few hundred files, how many
    have been looked at so far (a big share takes a while to list); it may raise to abandon the
    walk."""
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
        paths = walk_files(root, skip_resolved, warnings, inside=root if confined else None, seen=seen)

    candidates, refused = [], []
    not_read: dict[str, Counter[str]] = {}
    real_folders: dict[str, str] = {}
    for number, relative in enumerate(paths, 1):
        if seen is not None and number % _SEEN_EVERY == 0:
            # In a repository the listing is instant and reading each file's status is what takes
            # time; after a walk the count stays what the walk listed.
            seen(number if tracked is not None else len(paths))
        fmt, passed_over = wanted.sort(relative)
        if fmt is None or root / relative in skip_resolved:  # a skipped file: the labels file, say
            if passed_over and root / relative not in skip_resolved:  # our waivers file is no loss
                not_read.setdefault(passed_over, Counter())[file_type(relative)] += 1
            continue
        found = inspect(root, relative, fmt, confined, real_folders)
        if isinstance(found, Candidate):
            candidates.append(found)
        elif found is not None:
            refused.append(found)

    candidates.sort(key=lambda c: c.path)
    commit_dates = _commit_dates(root) if tracked is not None else {}
    return Discovery(
        root, tuple(candidates), tracked is not None, commit_dates, tuple(warnings), tuple(refused), not_read
    )


def walk_files(
    root: Path, skip: set[Path], warnings: list[str], inside: Path | None = None,
    seen: Callable[[int], None] | None = None,
) -> list[str]:
    """Every file below ``root``, relative to it. Iterative (a folder nested thousands deep would
    exhaust the recursion of ``os.walk``); folders are recognised by device and inode, so a symlink
    loop or a second link to a folder is read once, and ``skip`` folders are never entered. With
    ``inside``, a symlinked folder whose real path is not below that folder is not entered."""
    found: list[str] = []
    seen_folders: set[tuple[int, int]] = set()
    skip_keys = {key for key in map(_folder_key, skip) if key is not None}
    stack: list[tuple[str, str]] = [(str(root), "")]  # (absolute folder, relative folder)
    listed = reported = 0  # entries listed, and when ``seen`` last heard of them
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
        listed += len(entries)
        if seen is not None and listed >= reported + _SEEN_EVERY:
            reported = listed
            seen(listed)
        for entry in entries:
            relative = f"{relative_folder}/{entry.name}" if relative_folder else entry.name
            try:
                is_folder = entry.is_dir()  # follows symlinks, as discovery does
            except OSError:
                is_folder = False
            if not is_folder:
                found.append(relative)
            elif entry.name in VCS_FOLDERS:
                continue
            elif (inside is not None and entry.is_symlink()
                  and not is_inside(real := os.path.realpath(entry.path), str(inside))):
                warnings.append(f"{_short(relative)}: {outside(display_path(real), 'followed')}")
            else:
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


def git_tracked(root: Path) -> list[str] | None:
    """Tracked files below root, relative to root; None when root is not inside a git work tree."""
    inside = run_git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != b"true":
        return None
    listing = run_git(root, "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--recurse-submodules",
                      "--", ".")
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
    log = run_git(root, "-c", "core.quotepath=off", "log", "--format=%x01%cI", "--name-only", "--relative", "-z",
                  "--", ".")
    if log is None:
        return {}
    dates: dict[str, str] = {}
    current = ""
    for token in log.decode("utf-8", "surrogateescape").split("\0"):
        path = token.strip("\n")
        if path.startswith("\x01"):
            header, _, first_path = path[1:].partition("\n")
            current = header[:10]
            path = first_path.strip("\n")
        if path:
            dates.setdefault(path, current)
    return dates
