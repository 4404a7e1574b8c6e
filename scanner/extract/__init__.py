"""Extraction: the text, sections and metadata of one document, or the reason it can't be read.

``extract_file`` reads one file in the calling process and never raises: it reads the file's bytes
once (a regular file only, no more than ``max_file_bytes``), hashes them and parses those same
bytes, so the content hash a result carries is the hash of what was parsed. ``extract_all`` runs
it in worker processes, so a file that hangs, grows without end or kills its reader costs one
``Unreadable`` entry and no more; the main process never opens a document. Format handlers (one
module per family) take the bytes (:class:`Source`) and are imported on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import itertools
import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from gapscan.scanner.common.documents import (
    LEGACY_FORMATS,
    Document,
    Extract,
    ExtractResult,
    Unreadable,
)
from gapscan.scanner.extract.dates import dates_in_text
from gapscan.scanner.extract.language import identify, load_detector
from gapscan.scanner.extract.guards import (
    FIELD_CHARS,
    NO_TEXT,
    Draft,
    Limits,
    Refused,
    Source,
    check_size,
    check_zip,
    date_text,
    describe_error,
    field_text,
    read_document,
)

__all__ = ["EXTRACTOR_VERSION", "Known", "Limits", "Scored", "extract_all", "extract_file", "score_all",
           "stop_worker_server", "timed_out"]

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
# Every handler module, as the fork server of the workers imports them (scanner/extract/server.py).
HANDLER_MODULES = tuple(sorted({f"{__name__}.{module}" for module in _HANDLERS.values()}))
_ZIP_FORMATS = {"docx", "xlsx", "pptx", "odt", "ods", "odp"}
# Formats that read other files (LaTeX \input): their handler is told the scanned root, the only
# folder they may read from.
_READS_OTHER_FILES = {"tex"}
_LEGACY_REPLACEMENT = {"doc": ".docx", "rtf": ".docx", "xls": ".xlsx", "ppt": ".pptx"}
# Jobs queued per worker, so a huge tree never holds all its futures at once.
_QUEUE_PER_WORKER = 4
# Workers are replaced after this many files, returning memory that parsers leak or fragment.
_TASKS_PER_WORKER = 200
# While waiting for a slow file, the caller's ``tick`` is called this often (it may stop the run).
_TICK_SECONDS = 0.25
# Warnings kept per document (a PDF of 100,000 broken pages would otherwise carry one for each).
_MAX_WARNINGS = 100


@dataclass(frozen=True)
class Known:
    """A document whose content the caller already holds an extract for (found by its hash)."""

    document: Document


@dataclass(frozen=True)
class Scored:
    """An extract and what the caller's ``scorer`` made of it, in the worker that read it."""

    extract: Extract
    scores: bytes  # as the scorer made them (scanner/scoring.py: stored_scores)


# The scorer of this worker process (see ``extract_all``), set when the worker starts.
_scorer: Callable[[Extract], bytes] | None = None


def extract_file(
    path: Path,
    document: Document,
    limits: Limits,
    inside: str | None = None,
    known: Container[str] | None = None,
) -> ExtractResult | Known:
    """Read ``path`` (the file behind ``document``) in this process. Never raises.

    ``inside``: the file's real path must lie below this folder (a symlink swapped in since
    discovery is not followed out of the scanned tree). ``known``: content hashes not to parse
    again; such a file comes back as :class:`Known`. The result's document carries the content
    hash, size and modification time of the bytes read."""
    try:
        data, status = read_document(path, limits, inside)
    except Refused as error:
        return Unreadable(document, str(error))
    except Exception as error:  # noqa: BLE001 - a MemoryError under the worker's cap, say
        return Unreadable(document, describe_error(error))
    document = replace(document, size=len(data), mtime=status.st_mtime, sha256=hashlib.sha256(data).hexdigest())
    if known is not None and document.sha256 in known:
        return Known(document)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # parsers warn about features they skip
            return _extract(Source(path.name, data), path, document, limits)
    except Exception as error:  # noqa: BLE001 - every failure becomes a reason
        return Unreadable(document, describe_error(error))


def extract_all(
    jobs: Iterable[tuple[Path, Document]],
    limits: Limits,
    workers: int,
    *,
    inside: str | None = None,
    known: Container[str] | None = None,
    tick: Callable[[], None] | None = None,
    scorer: Callable[[Extract], bytes] | None = None,
) -> Iterator[ExtractResult | Known | Scored]:
    """Extract every job in worker processes; yields one result per job as each completes.

    A pool is used even with one worker: the per-file timeout and crash isolation are the point.
    ``inside`` and ``known`` are passed to :func:`extract_file`; ``tick`` is called at least every
    quarter second while results are awaited, and may raise to abandon the run (the workers are
    then stopped at once). ``scorer`` (picklable; handed to each worker once, when it starts) is
    called in the worker on each extract, which then comes back :class:`Scored`; where it fails
    the extract comes back alone, for the caller to score (and see why).
    """
    workers = max(1, workers)
    # Workers are replaced during this run (or how many jobs there are is not known): see _worker_context.
    replaced = not isinstance(jobs, Sized) or len(jobs) > workers * _TASKS_PER_WORKER
    jobs = iter(jobs)
    first = next(jobs, None)
    if first is None:
        return
    pool = _pool(workers, limits, scorer, replaced=replaced)
    pending: dict[Future[ExtractResult | Known | Scored], Document] = {}
    try:
        for path, document in itertools.chain([first], jobs):
            if len(pending) >= workers * _QUEUE_PER_WORKER:
                yield from _collect(pending, limits, tick)
            future = pool.schedule(
                _extract_and_score, args=(path, document, limits, inside, known), timeout=limits.timeout_seconds
            )
            pending[future] = document
        while pending:
            yield from _collect(pending, limits, tick)
    finally:
        # Also reached when the caller stops iterating early: don't wait for queued work.
        pool.stop()
        pool.join()


def score_all(
    extracts: Sequence[Extract], scorer: Callable[[Extract], bytes], limits: Limits, workers: int,
    tick: Callable[[], None] | None = None,
) -> Iterator[Scored | Extract]:
    """Score extracts the caller holds (a new model or catalog scores a collection again from the
    text in its index) in worker processes, each with ``scorer``; yields each as it is done,
    :class:`Scored`, or alone where its worker could not score it in time or at all (for the
    caller to score, and see why). ``tick`` as for :func:`extract_all`."""
    if not extracts:
        return
    workers = max(1, workers)
    # Started from the fork server where there is one: the caller holds a collection's scores.
    pool = _pool(workers, limits, scorer, replaced=True)
    pending: dict[Future[bytes], Extract] = {}
    try:
        for extract in extracts:
            if len(pending) >= workers * _QUEUE_PER_WORKER:
                yield from _scored(pending, tick)
            # Loaded here: the index that holds a stored extract's text is this thread's.
            task = pool.schedule(_score, args=(extract.loaded(),), timeout=limits.timeout_seconds)
            pending[task] = extract
        while pending:
            yield from _scored(pending, tick)
    finally:
        pool.stop()
        pool.join()


def _scored(pending: dict[Future[bytes], Extract], tick: Callable[[], None] | None) -> Iterator[Scored | Extract]:
    for future in _completed(pending, tick):
        extract = pending.pop(future)
        try:
            yield Scored(extract, future.result())
        except Exception:  # noqa: BLE001 - timed out, crashed or failed: the caller scores it and sees why
            yield extract


def _score(extract: Extract) -> bytes:
    assert _scorer is not None  # set by _prepare_worker
    return _scorer(extract)


def _pool(workers: int, limits: Limits, scorer: Callable[[Extract], bytes] | None, *, replaced: bool):
    """Worker processes, each prepared with ``scorer`` (see _prepare_worker); ``replaced``: see
    _worker_context."""
    from pebble import ProcessPool  # noqa: PLC0415 - a rescan with nothing to read never starts a pool

    return ProcessPool(
        max_workers=workers,
        max_tasks=_TASKS_PER_WORKER,
        initializer=_prepare_worker,
        initargs=(limits.max_memory_bytes, scorer),
        context=_worker_context(server=replaced, preload=getattr(scorer, "preload", ())),
    )


# The process that started this process's fork server (None: none started yet).
_server_owner: int | None = None


def _worker_context(*, server: bool, preload: Iterable[str] = ()) -> multiprocessing.context.BaseContext:
    """Where workers start from. With ``server``, a fork server: a fresh interpreter that has loaded
    what workers need (scanner/extract/server.py) and nothing else. A worker forked from the
    caller holds (and counts in its resident memory) everything the caller holds, which grows with
    a large scan (every document's extract and scores), and workers are replaced every
    ``_TASKS_PER_WORKER`` files: forked late in the scan, each would hold nearly all of it. A run
    whose workers are never replaced (a watch service's update, a few changed files) forks them
    from the caller: the server's start (its imports, seconds) would cost more than it saves.

    A process forked from one that started a fork server cannot use that server (it is not its
    child) and may be unable to start its own (its user changed), and a caller whose main module a
    worker cannot import would have no workers: their workers are forked from them too.
    ``preload``: modules the server also imports as it starts (the scorer's, see Scorer.preload)."""
    global _server_owner  # noqa: PLW0603 - one fork server per process, started on first use
    inherited = _server_owner is not None and _server_owner != os.getpid()
    if not server or inherited or not _main_importable():
        load_detector()  # once here, not in every worker: forked workers share it
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    if _server_owner is None:
        context.set_forkserver_preload([f"{__name__}.server", *preload])
        _server_owner = os.getpid()
    return context


def stop_worker_server() -> None:
    """End the fork server this process started for its workers, and the resource tracker started
    with it, if they run (a watch service that stops leaves no process behind); the next pool
    starts them again. Their own stop methods are private: multiprocessing ends them only at exit."""
    global _server_owner  # noqa: PLW0603 - see _worker_context
    if _server_owner != os.getpid():
        return
    from multiprocessing import forkserver, resource_tracker  # noqa: PLC0415

    forkserver._forkserver._stop()  # type: ignore[attr-defined]  # noqa: SLF001
    resource_tracker._resource_tracker._stop()  # type: ignore[attr-defined]  # noqa: SLF001
    _server_owner = None


def _main_importable() -> bool:
    """Whether a worker started from the fork server can import the caller's main module, as it
    does (a script read from standard input cannot be)."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main.__spec__, "name", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


def _extract_and_score(
    path: Path, document: Document, limits: Limits, inside: str | None, known: Container[str] | None
) -> ExtractResult | Known | Scored:
    result = extract_file(path, document, limits, inside, known)
    if _scorer is None or not isinstance(result, Extract):
        return result
    try:
        return Scored(result, _scorer(result))
    except Exception:  # noqa: BLE001 - the caller scores it again and reports the error
        return result


def _extract(source: Source, path: Path, document: Document, limits: Limits) -> ExtractResult:
    fmt = document.format
    if fmt in LEGACY_FORMATS.values():
        return Unreadable(
            document,
            f"unsupported legacy format (.{fmt}): save it as {_LEGACY_REPLACEMENT[fmt]}",
            skipped=True,
        )
    if fmt not in _HANDLERS:
        return Unreadable(document, f"unsupported format ({fmt})", skipped=True)
    check_size(len(source.data), limits)
    if fmt in _ZIP_FORMATS:
        check_zip(source, fmt, limits)
    handler = importlib.import_module(f"{__name__}.{_HANDLERS[fmt]}")
    if fmt in _READS_OTHER_FILES:
        draft: Draft = handler.read(source, fmt, limits, path=path, root=scanned_root(path, document.path))
    else:
        draft = handler.read(source, fmt, limits)
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
    warnings_ = [field_text(warning, 300) for warning in draft.warnings[:_MAX_WARNINGS]]
    if len(draft.warnings) > _MAX_WARNINGS:
        warnings_.append(f"… and {len(draft.warnings) - _MAX_WARNINGS:,} more warnings")
    if draft.full:
        warnings_.append(f"text truncated at {limits.max_chars:,} characters")
    text = "\n".join(section.text for section in sections)
    metadata = draft.metadata
    room = min(limits.max_chars, FIELD_CHARS)  # metadata obeys the text's budget too
    metadata = replace(
        metadata,
        title=field_text(metadata.title, room),
        author=field_text(metadata.author, room),
        created=date_text(metadata.created),
        modified=date_text(metadata.modified),
        dates_in_text=dates_in_text(text),
    )
    language, sections = identify(sections)
    return Extract(document, sections, metadata, tuple(warnings_), language, draft.includes)


def _collect(
    pending: dict[Future, Document], limits: Limits, tick: Callable[[], None] | None
) -> Iterator[ExtractResult | Known]:
    for future in _completed(pending, tick):
        yield _outcome(future, pending.pop(future), limits)


def _completed(pending: Mapping[Future, object], tick: Callable[[], None] | None) -> set[Future]:
    """The pending jobs done once one is, ``tick`` called every ``_TICK_SECONDS`` meanwhile."""
    while True:
        done, _ = wait(pending, timeout=_TICK_SECONDS if tick else None, return_when=FIRST_COMPLETED)
        if done:
            return done
        assert tick is not None  # without a tick, wait() returns only once a job is done
        tick()


def _outcome(future: Future, document: Document, limits: Limits) -> ExtractResult | Known:
    from pebble import ProcessExpired  # noqa: PLC0415 - imported with the pool

    try:
        return future.result()
    except TimeoutError:
        return Unreadable(document, timed_out(limits))
    except ProcessExpired as error:
        return Unreadable(document, f"extraction crashed: {_exit_description(error.exitcode)}")
    except Exception as error:  # noqa: BLE001 - e.g. a result that failed to pickle
        return Unreadable(document, f"extraction crashed: {describe_error(error)}")


def timed_out(limits: Limits) -> str:
    """The reason given for a file that took longer than the time limit."""
    return f"timed out after {limits.timeout_seconds:g} s"


def _exit_description(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"worker killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker killed by signal {-exitcode}"
    return f"worker exited with code {exitcode}"


def _prepare_worker(max_memory_bytes: int, scorer: Callable[[Extract], bytes] | None = None) -> None:
    global _scorer  # noqa: PLW0603 - one per worker process, set once as it starts
    _scorer = scorer
    warnings.simplefilter("ignore")
    # pebble stops a worker (a file over its time limit, a pool shutting down) with SIGTERM and a
    # handler of its own, which is Python: it cannot run until a parser's C code (PDFium reading a
    # page) returns, and pebble waits 3 s before SIGKILL. A worker told to stop has nothing to save.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if max_memory_bytes > 0:
        _cap_address_space(max_memory_bytes)
    prepare = getattr(scorer, "prepare", None)  # what a scorer builds once, before any file's time limit runs
    if prepare is not None:
        # Where it fails, scoring fails for each extract too, and the caller scores it (and says why).
        with contextlib.suppress(Exception):
            prepare()


def _cap_address_space(headroom: int) -> None:
    try:
        import resource  # POSIX only
    except ImportError:
        return
    # A worker inherits the mappings of the process it was forked from, so the cap is headroom above them.
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
