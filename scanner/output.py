"""Writing reports to the output folder: all of them or none, each file whole or not at all.

The output folder is checked before a scan (:func:`check_output`): it may not lie inside the
scanned folder, and it must be writable. Every failure is an :class:`OutputError` line.
"""

from __future__ import annotations

import glob
import importlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from gapscan.reports.gate import Publication
from gapscan.reports.model import GapReport
from gapscan.scanner.common.choices import DEFAULT_FORMATS, FORMATS, link_base, with_json  # noqa: F401 - re-exported
from gapscan.scanner.discover import VCS_FOLDERS
from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.names import name_bytes, percent_encoded

PROBE_PREFIX = ".gapscan-probe."


class OutputError(RuntimeError, GapscanError):
    """The reports cannot be written where asked (exit code 2)."""


def check_output(out_dir: Path, root: Path) -> Path:
    """The output folder, resolved, once it is known not to lie inside (or be) the scanned folder
    ``root`` and to take a new file (it is created when missing). Raises :class:`OutputError`.

    A VCS folder (``.git``) is not part of the scanned tree, which discovery never enters: a
    pre-commit hook that scans its repository may write there."""
    out, scanned = out_dir.resolve(), root.resolve()
    if out == scanned or (out.is_relative_to(scanned) and VCS_FOLDERS.isdisjoint(out.relative_to(scanned).parts)):
        raise OutputError(
            f"--out {out_dir} is inside the scanned folder {scanned}: gapscan never writes inside the "
            "folder it scans; name a folder outside it (or inside its .git folder, which is never scanned)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=out, prefix=PROBE_PREFIX)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot write there: {exc.strerror or exc}") from None
    return out


# The file each format is written to, in --out.
FILE_NAMES = {
    "html": "report.html",
    "json": "report.json",
    "md": "report.md",
    "junit": "report.junit.xml",
    "xlsx": "report.xlsx",
    "csv": "report.csv",
    "sarif": "report.sarif",
}


def relative_link_base(root: str, out_dir: Path) -> str:
    """Links from a report in ``out_dir`` to the documents under ``root`` (a display path): they
    keep working when both folders move together. Each segment holds the folder name's exact
    bytes, percent-encoded like the documents' paths (see ``document_href``)."""
    real_root = os.fsdecode(name_bytes(root))
    try:
        way = os.path.relpath(real_root, out_dir.resolve())
    except ValueError:  # Windows: the report and the scanned share are on different drives
        return Path(real_root).as_uri() + "/"
    return "".join(percent_encoded(segment) + "/" for segment in Path(way).parts)


# What a renderer returns: text, bytes (an xlsx workbook), or text a piece at a time (a report
# of many documents is written as it is made, never held whole).
Content = str | bytes | Iterable[str]


def write_atomic(path: Path, content: Content) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers never see half a file.
    Text is written as UTF-8; ``bytes`` (an xlsx workbook) as they are. Raises OSError."""
    os.replace(_temporary(path, content), path)


def write_all(folder: Path, files: Iterable[tuple[str, Content]]) -> list[Path]:
    """Write every file (a name in ``folder``, and its content) or none: each goes to a temporary
    file first (given lazily, one file's content is made and held at a time), and only when all
    of them are on disk are they renamed into place (a full disk leaves the previous reports as
    they were). Raises :class:`OutputError`."""
    written: list[tuple[str, Path]] = []
    try:
        try:
            for name, content in files:
                written.append((_temporary(folder / name, content), folder / name))
            for temporary, path in written:
                os.replace(temporary, path)
        except BaseException:
            for temporary, _ in written:
                Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write the reports: {exc.strerror or exc}") from None
    return [path for _, path in written]


def _temporary(path: Path, content: Content) -> str:
    """A temporary file beside ``path`` holding ``content``, readable by all; its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(content, bytes):
            with os.fdopen(handle, "wb") as binary:
                binary.write(content)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                for text in [content] if isinstance(content, str) else _joined(content):
                    stream.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for its readers
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def _joined(pieces: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """The pieces joined into texts of about ``size`` characters: a template makes many short
    pieces, each costly to write alone."""
    batch: list[str] = []
    held = 0
    for piece in pieces:
        batch.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(batch)
            batch, held = [], 0
    yield "".join(batch)


# A temporary file this old was left by a writer that was killed, not one still writing.
ABANDONED_AFTER_SECONDS = 3600


def _remove_abandoned(path: Path) -> None:
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if leftover.lstat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # another writer removed or replaced it


def write_reports(
    report: GapReport,
    out_dir: Path,
    formats: tuple[str, ...],
    template_dir: Path | None = None,
    publication: Publication | None = None,
) -> list[Path]:
    """Write each format, all or none (raises :class:`OutputError`); ``publication`` (baseline
    diff, waivers, gate options, link base) feeds every one of them."""
    publication = publication or Publication()
    links = publication.link_base or relative_link_base(report.root, out_dir)

    def rendered(fmt: str) -> Content:
        module, function = _RENDERERS[fmt]
        render = getattr(importlib.import_module(module), function)
        options = {"template_dir": template_dir, "link_base": links} if fmt == "html" else {}
        return render(report, publication=publication, **options)

    return write_all(out_dir, ((FILE_NAMES[fmt], rendered(fmt)) for fmt in formats))


# Each format's renderer, imported when the format is asked for: Jinja and openpyxl take longer
# to import than an unchanged rescan takes to decide.
_RENDERERS = {
    "html": ("gapscan.reports.html", "html_pieces"),
    "json": ("gapscan.reports.json_report", "json_pieces"),
    "md": ("gapscan.reports.markdown", "render_markdown"),
    "junit": ("gapscan.reports.junit", "render_junit"),
    "xlsx": ("gapscan.reports.xlsx", "render_xlsx"),
    "csv": ("gapscan.reports.csv_report", "render_csv"),
    "sarif": ("gapscan.reports.sarif", "render_sarif"),
}
