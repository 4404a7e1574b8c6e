"""Writing reports to the output folder: each file appears whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from gapscan.reports.html import render_html
from gapscan.reports.json_report import render_json
from gapscan.reports.model import GapReport

FORMATS = ("html", "json")
DEFAULT_FORMATS = ("html", "json")


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_reports(
    report: GapReport, out_dir: Path, formats: tuple[str, ...], template_dir: Path | None = None
) -> list[Path]:
    # Evidence links in the HTML are relative, so the report keeps working when both folders move.
    link_base = Path(os.path.relpath(report.root, out_dir.resolve())).as_posix() + "/"
    renderers: dict[str, tuple[str, Callable[[GapReport], str]]] = {
        "html": ("report.html", lambda r: render_html(r, template_dir=template_dir, link_base=link_base)),
        "json": ("report.json", render_json),
    }
    written = []
    for fmt in formats:
        name, render = renderers[fmt]
        path = out_dir / name
        write_atomic(path, render(report))
        written.append(path)
    return written
