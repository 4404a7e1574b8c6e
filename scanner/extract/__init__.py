"""Extraction: the text, sections and metadata of one document, or the reason it can't be read.

``extract_file`` reads one file in the calling process and never raises. ``extract_all`` runs it
in worker processes, so a file that hangs or kills its reader costs one ``Unreadable`` entry and
no more. Format handlers (one module per family) are imported on first use.
"""

from __future__ import annotations

import importlib
import itertools
import os
import signal
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import replace
from pathlib import Path, PurePosixPath

from pebble import ProcessExpired, ProcessPool

from gapscan.scanner.documents import (
    LEGACY_FORMATS,
    Document,
    Extract,
    ExtractResult,
    Unreadable,
)
from gapscan.scanner.extract.dates import dates_in_text
from gapscan.scanner.extract.language import detect_language, load_detector, mark_section_languages
from gapscan.scanner.extract.guards import (
    NO_TEXT,
    Draft,
    Limits,
    check_size,
    check_zip,
    one_line_text,
    clean_text,
    describe_error,
)

__all__ = ["EXTRACTOR_VERSION", "Limits", "extract_all", "extract_file"]

# Bump whenever the text, sections or metadata produced for the same bytes change.
EXTRACTOR_VERSION = 4

# Format key -> handler module in this package.
_HANDLERS = {
    "docx": "docx",
    "xlsx": "xlsx",
    "pdf": "pdf",
    "pptx": "pptx",
    "odt": "odf",
    "ods": "odf",
    "odp": "odf",
    "md": "text",
    "txt": "text",
    "csv": "text",
    "html": "html",
    "tex": "latex",
}
_ZIP_FORMATS = {"docx", "xlsx", "pptx", "odt", "ods", "odp"}
# Formats that read other files (LaTeX \input): their handler is told the scanned root, the only
# folder they may read from.
_READS_OTHER_FILES = {"tex"}
_LEGACY_REPLACEMENT = {"doc": ".docx", "rtf": ".docx", "xls": ".xlsx", "ppt": ".pptx"}
# Jobs queued per worker, so a huge tree never holds all its futures at once.
_QUEUE_PER_WORKER = 4
# Workers are replaced after this many files, returning memory that parsers leak or fragment.
_TASKS_PER_WORKER = 200


def extract_file(path: Path, document: Document, limits: Limits) -> ExtractResult:
    """Read ``path`` (the file behind ``document``) in this process. Never raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # parsers warn about features they skip
            return _extract(path, document, limits)
    except Exception as error:  # noqa: BLE001 - every failure becomes a reason
        return Unreadable(document, describe_error(error))


def extract_all(
    jobs: Iterable[tuple[Path, Document]], limits: Limits, workers: int
) -> Iterator[ExtractResult]:
    """Extract every job in worker processes; yields one result per job as each completes.

    A pool is used even with one worker: the per-file timeout and crash isolation are the point.
    """
    workers = max(1, workers)
    jobs = iter(jobs)
    first = next(jobs, None)
    if first is None:
        return
    load_detector()  # once here, not in every worker: forked workers share it
    pool = ProcessPool(
        max_workers=workers,
        max_tasks=_TASKS_PER_WORKER,
        initializer=_prepare_worker,
        initargs=(limits.max_memory_bytes,),
    )
    pending: dict[Future[ExtractResult], Document] = {}
    try:
        for path, document in itertools.chain([first], jobs):
            if len(pending) >= workers * _QUEUE_PER_WORKER:
                yield from _collect(pending, limits)
            future = pool.schedule(
                extract_file, args=(path, document, limits), timeout=limits.timeout_seconds
            )
            pending[future] = document
        while pending:
            yield from _collect(pending, limits)
    finally:
        # Also reached when the caller stops iterating early: don't wait for queued work.
        pool.stop()
        pool.join()


def _extract(path: Path, document: Document, limits: Limits) -> ExtractResult:
    fmt = document.format
    if fmt in LEGACY_FORMATS.values():
        return Unreadable(
            document,
            f"unsupported legacy format (.{fmt}): save it as {_LEGACY_REPLACEMENT[fmt]}",
            skipped=True,
        )
    if fmt not in _HANDLERS:
        return Unreadable(document, f"unsupported format ({fmt})", skipped=True)
    check_size(path.stat().st_size, limits)
    if fmt in _ZIP_FORMATS:
        check_zip(path, fmt, limits)
    handler = importlib.import_module(f"{__name__}.{_HANDLERS[fmt]}")
    if fmt in _READS_OTHER_FILES:
        draft: Draft = handler.read(path, fmt, limits, root=scanned_root(path, document.path))
    else:
        draft = handler.read(path, fmt, limits)
    return _finish(document, draft, limits)


def scanned_root(path: Path, relative: str) -> Path:
    """The folder a document's path is relative to, from the file's location (``path``) and its
    path in the scan; the file's own folder when the two do not line up."""
    parts = PurePosixPath(relative).parts
    if parts and path.parts[-len(parts):] == parts:
        return path.parents[len(parts) - 1]
    return path.parent


def _finish(document: Document, draft: Draft, limits: Limits) -> ExtractResult:
    sections = draft.sections()
    if not sections:
        return Unreadable(document, NO_TEXT)
    warnings_ = [clean_text(warning) for warning in draft.warnings]
    if draft.full:
        warnings_.append(f"text truncated at {limits.max_chars:,} characters")
    text = "\n".join(section.text for section in sections)
    metadata = draft.metadata
    metadata = replace(
        metadata,
        title=one_line_text(metadata.title),
        author=one_line_text(metadata.author),
        created=clean_text(metadata.created),
        modified=clean_text(metadata.modified),
        dates_in_text=dates_in_text(text),
    )
    language = detect_language(text)
    sections = mark_section_languages(sections, language)
    return Extract(document, sections, metadata, tuple(warnings_), language, draft.includes)


def _collect(
    pending: dict[Future[ExtractResult], Document], limits: Limits
) -> Iterator[ExtractResult]:
    done, _ = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        yield _outcome(future, pending.pop(future), limits)


def _outcome(future: Future[ExtractResult], document: Document, limits: Limits) -> ExtractResult:
    try:
        return future.result()
    except TimeoutError:
        return Unreadable(document, f"timed out after {limits.timeout_seconds:g} s")
    except ProcessExpired as error:
        return Unreadable(document, f"extraction crashed: {_exit_description(error.exitcode)}")
    except Exception as error:  # noqa: BLE001 - e.g. a result that failed to pickle
        return Unreadable(document, f"extraction crashed: {describe_error(error)}")


def _exit_description(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"worker killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker killed by signal {-exitcode}"
    return f"worker exited with code {exitcode}"


def _prepare_worker(max_memory_bytes: int) -> None:
    warnings.simplefilter("ignore")
    if max_memory_bytes > 0:
        _cap_address_space(max_memory_bytes)


def _cap_address_space(headroom: int) -> None:
    try:
        import resource  # POSIX only
    except ImportError:
        return
    # A forked worker inherits the parent's mappings, so the cap is headroom above them.
    limit = _address_space() + headroom
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or limit < soft:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    """This process's virtual memory size in bytes (0 where /proc is not available)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")
