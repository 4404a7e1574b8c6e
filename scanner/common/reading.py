"""Reading files that anyone may have put in place: the documents of a scanned folder, and the
files a user or a configuration names (configuration, catalogs, labels, waivers, baselines).

Only regular files are read. A FIFO would block its reader for good and a device may do anything
when opened, so neither is ever opened: on Linux a file is first looked at through an ``O_PATH``
descriptor (which opens nothing a driver sees), checked, and then opened for reading through that
same descriptor, so the file that was checked is the file that is read. Elsewhere the file is
looked at, then opened without blocking and checked again. Every read stops at a byte limit.

``read_toml``, ``read_json`` and ``read_text`` turn every way such a file can be unusable (not
there, not a regular file, too large, not UTF-8, nested too deeply, not valid) into one
:class:`InputError` line that names the file.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.names import display_path

MiB = 1024 * 1024
# The files a configuration names are small (a labels file of 100,000 rows is a few MB); a
# baseline is a whole report.json.
INPUT_LIMIT = 64 * MiB
BASELINE_LIMIT = 512 * MiB
_CHUNK = 1 << 20
_PROC_FD = "/proc/self/fd"
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class ReadRefused(Exception):
    """A file that is not read, for a reason that is no system error (one line)."""


class TooLarge(ReadRefused):
    """A file holding more bytes than the limit allows (``size``: at least this many)."""

    def __init__(self, size: int):
        super().__init__(f"larger than the limit ({size} bytes or more)")
        self.size = size


class InputError(ValueError, GapscanError):
    """A file named by the user or a configuration that cannot be used (one line, exit code 2)."""


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words ("a FIFO (named pipe)")."""
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def not_regular(mode: int) -> str:
    """Why a file that is not a regular file is not read."""
    return f"{file_kind(mode)}, not a regular file: never opened"


def is_inside(real: str, root: str) -> bool:
    """Whether the real (symlink-free) path ``real`` is ``root`` or lies below it."""
    root = root.rstrip(os.sep) or os.sep
    return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)


def outside(real: str, verb: str = "read") -> str:
    """Why a symlink that leads to ``real`` (shown as reports show paths) is not followed."""
    return f"a symlink that leads outside the scanned folder (to {real}): not {verb}"


def open_regular(path: str | os.PathLike, inside: str | None = None) -> int:
    """A descriptor open for reading on the regular file at ``path`` (symlinks followed); with
    ``inside``, the file's real path must lie below that folder. Raises :class:`ReadRefused` for a file
    that is not to be read, ``OSError`` when the system says no."""
    if hasattr(os, "O_PATH") and os.path.isdir(_PROC_FD):
        handle = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            _check(os.fstat(handle).st_mode, lambda: os.readlink(f"{_PROC_FD}/{handle}"), inside)
            return os.open(f"{_PROC_FD}/{handle}", os.O_RDONLY | os.O_CLOEXEC)
        finally:
            os.close(handle)
    _check(os.stat(path).st_mode, lambda: os.path.realpath(path), inside)
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        _check(os.fstat(descriptor).st_mode, lambda: os.path.realpath(path), inside)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _check(mode: int, real_path, inside: str | None) -> None:
    if not stat.S_ISREG(mode):
        raise ReadRefused(not_regular(mode))
    if inside is not None:
        real = os.fsdecode(real_path())
        if not is_inside(real, inside):
            raise ReadRefused(outside(display_path(real)))


def read_regular(path: str | os.PathLike, limit: int, inside: str | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at ``path`` (at most ``limit``) and its status as read.

    Raises :class:`TooLarge` past ``limit`` (having read no more than one byte past it, however fast
    the file grows), :class:`ReadRefused` for a file that is not to be read or that changed while it
    was read, ``OSError`` when the system says no."""
    descriptor = open_regular(path, inside)
    with os.fdopen(descriptor, "rb", buffering=0) as stream:
        before = os.fstat(descriptor)
        blocks, size = [], 0
        while size <= limit:
            block = stream.read(min(_CHUNK, limit + 1 - size))
            if not block:
                break
            blocks.append(block)
            size += len(block)
        if size > limit:
            raise TooLarge(max(size, os.fstat(descriptor).st_size))
        after = os.fstat(descriptor)
    if size and not before.st_size and not after.st_size:
        raise ReadRefused("a virtual file (its size is 0 but it has content, as in /proc): not read")
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != after.st_size:
        raise ReadRefused("file changed while it was read: tried again on the next scan")
    return b"".join(blocks), after


# -- the files a user or a configuration names ----------------------------------------------------


def read_input(path: Path, limit: int = INPUT_LIMIT) -> bytes:
    """The bytes of a file the user named; every failure is an :class:`InputError` line."""
    try:
        data, _ = read_regular(path, limit)
    except TooLarge:
        raise InputError(f"{path}: larger than {limit // MiB} MB; is it the right file?") from None
    except ReadRefused as refusal:
        raise InputError(f"{path}: {refusal}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return data


def read_text(path: Path, limit: int = INPUT_LIMIT) -> str:
    """A UTF-8 text file (a byte order mark is allowed)."""
    data = read_input(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (invalid byte at position {exc.start})") from None


def read_toml(path: Path, limit: int = INPUT_LIMIT) -> dict:
    text = read_text(path, limit)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid TOML: nested too deeply") from None


def read_json(path: Path, limit: int = INPUT_LIMIT) -> object:
    """JSON as the standard writes it: ``NaN`` and ``Infinity`` (which Python would accept) are
    refused, and so is nesting deeper than the parser can follow."""
    text = read_text(path, limit)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:  # json.JSONDecodeError, or NaN / Infinity
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON: nested too deeply") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")
