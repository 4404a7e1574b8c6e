"""Asking git about a folder: the one way gapscan runs git.

A CI job or a service often runs as another user than the checkout's owner; git then refuses the
repository ("dubious ownership"), and gapscan would silently read every file instead of the tracked
ones, or leave every SARIF location without its repository path. Every call therefore trusts the
folder it names (``-c safe.directory=*``): gapscan only reads from git, and what it reads (file
names, a path prefix) runs nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_TIMEOUT_SECONDS = 120


def run_git(folder: Path, *args: str, timeout: float = GIT_TIMEOUT_SECONDS) -> bytes | None:
    """What ``git -C folder ARGS`` writes to stdout, or None when git is not installed, fails
    (not a repository, say) or takes longer than ``timeout`` seconds."""
    try:
        done = subprocess.run(
            ["git", "-c", "safe.directory=*", "-C", str(folder), *args],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def locate(root: Path, config_file: Path | None) -> tuple[str, str]:
    """The scanned root relative to its git work tree (``""`` or ``"qms/"``), and the configuration
    file relative to that work tree (or to the root outside a repository; ``""`` when outside)."""
    root = root.resolve()
    shown = run_git(root, "rev-parse", "--show-prefix", timeout=15)
    prefix = shown.decode("utf-8", "surrogateescape").strip() if shown is not None else ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    top = root
    for _ in [p for p in prefix.split("/") if p]:
        top = top.parent
    config = ""
    if config_file is not None:
        try:
            config = Path(config_file).resolve().relative_to(top).as_posix()
        except ValueError:
            config = ""
    return prefix, config
