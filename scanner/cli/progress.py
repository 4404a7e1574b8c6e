"""Progress on stderr while a scan or a corpus is read."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tqdm import tqdm


class Progress:
    """A progress bar on a terminal that says how wide it is; anywhere else (a CI log, a terminal
    of unknown width) one line per stage, at most every 10 seconds. Discovery counts the files it
    has looked at, since their number is not known until it ends."""

    LINE_EVERY = 10.0  # seconds between two progress lines of one stage
    MIN_BAR_WIDTH = 40

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.width = terminal_width() if sys.stderr.isatty() else 0
        self.bar: tqdm | None = None
        self.stage = ""
        self.last_line = 0.0
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or (total == 0 and stage != "discover"):
            return
        if self.width >= self.MIN_BAR_WIDTH:
            from tqdm import tqdm

            if stage != self.stage:
                self.close()
                unit = "file" if stage == "discover" else "doc"
                self.bar = tqdm(total=total or None, desc=stage, unit=unit, leave=False, file=sys.stderr,
                                ncols=self.width)
                self.stage = stage
            bar = self.bar
            assert bar is not None  # made for this stage just above
            if total and bar.total != total:  # discovery's end: the documents it found
                bar.total = total
            bar.update(done - bar.n)
        elif stage != self.stage or done == total or time.monotonic() - self.last_line > self.LINE_EVERY:
            self.stage = stage
            self.last_line = time.monotonic()
            if stage == "discover":
                what = f"{done} documents found" if total else f"{done} files looked at so far"
            else:
                what = f"{done}/{total} documents"
            click.echo(f"{stage}: {what}, {time.monotonic() - self.started:.0f} s", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def terminal_width() -> int:
    """Columns of the terminal on stderr; 0 when it does not say (a pseudo-terminal of size 0x0,
    as some CI runners and container consoles give)."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    if columns <= 0:
        try:
            columns = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            columns = 0
    return max(columns, 0)
