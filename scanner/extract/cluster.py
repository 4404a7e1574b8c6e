"""Extraction and scoring on a Dask cluster (``gapscan scan --executor dask://HOST:PORT``).

The coordinator (the ``gapscan scan`` process) discovers the files, keeps the index and writes the
reports; the cluster's workers read each file at the same path (a shared mount, mounted at the
same place on every machine), extract it and score it, and send back what a local worker would. The
workers need gapscan installed (``pip install 'gapscan[dask]'``, the same version), at the same
path where catalogs with translated profiles are used.

Unlike the local pool, a worker is not a throw-away process per file: the size, archive and text
limits apply, but a file that hangs holds its worker thread (Dask's own worker lifetime settings
apply), and a renamed file whose content the index knows is read again (the workers cannot see the
index).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from gapscan.scanner.common.documents import Document, Extract, ExtractResult, Unreadable
from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.extract import Limits, Scored, extract_file
from gapscan.scanner.extract.guards import describe_error

SCHEME = "dask://"
# Tasks queued per worker thread, so a huge tree never holds all its futures at once.
_QUEUE_PER_THREAD = 8
_TICK_SECONDS = 0.25


class ClusterError(RuntimeError, GapscanError):
    """The cluster cannot be used: Dask is not installed, or the scheduler cannot be reached."""


def cluster_address(executor: str) -> str:
    """The scheduler address of ``dask://HOST:PORT`` (TCP), or of ``dask://`` followed by any address
    Dask understands (``dask://tls://host:8786``). Raises ValueError for anything else."""
    if not executor.startswith(SCHEME) or not executor[len(SCHEME):]:
        raise ValueError(f"{executor!r}: the executor is 'local' or dask://HOST:PORT")
    address = executor[len(SCHEME):]
    return address if "://" in address else f"tcp://{address}"


def extract_on_cluster(  # noqa: PLR0913 - the arguments of extract_all
    jobs: Iterable[tuple[Path, Document]],
    limits: Limits,
    address: str,
    *,
    inside: str | None = None,
    scorer: Callable[[Extract], bytes] | None = None,
    tick: Callable[[], None] | None = None,
) -> Iterator[ExtractResult | Scored]:
    """Extract (and, with ``scorer``, score) every job on the cluster at ``address``; yields one
    result per job as each completes, like ``extract_all``."""
    try:
        from distributed import Client, wait
    except ImportError as exc:
        raise ClusterError("the dask executor needs Dask: pip install 'gapscan[dask]'") from exc
    try:
        client = Client(address, timeout=30, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        # The scorer (catalogs and model, a few MB) goes to each worker once, not with every file.
        shared = client.scatter(scorer, broadcast=True, hash=False) if scorer is not None else None
        capacity = max(1, sum(client.nthreads().values())) * _QUEUE_PER_THREAD
        pending: dict = {}
        for path, document in jobs:
            while len(pending) >= capacity:
                yield from _collect(pending, client, wait, tick)
            future = client.submit(_on_worker, str(path), document, limits, inside, shared, pure=False)
            pending[future] = document
        while pending:
            yield from _collect(pending, client, wait, tick)
    finally:
        client.close()


def _collect(pending: dict, client, wait, tick: Callable[[], None] | None) -> Iterator[ExtractResult | Scored]:
    while True:
        try:
            with client.as_current():  # this client, not the process's default one
                done, _ = wait(list(pending), timeout=_TICK_SECONDS if tick else None, return_when="FIRST_COMPLETED")
            break
        except TimeoutError:
            if tick is not None:
                tick()
    for future in done:
        document = pending.pop(future)
        try:
            yield future.result()
        except Exception as error:  # noqa: BLE001 - a worker lost, a result that did not unpickle
            yield Unreadable(document, f"extraction crashed: {describe_error(error)}")
        future.release()


def _on_worker(
    path: str, document: Document, limits: Limits, inside: str | None, scorer: Callable[[Extract], bytes] | None
) -> ExtractResult | Scored:
    """Runs on a Dask worker: what a local extraction worker does for one file."""
    result = extract_file(Path(path), document, limits, inside)
    if scorer is None or not isinstance(result, Extract):
        return result  # type: ignore[return-value]  # never Known: no known hashes are given
    try:
        return Scored(result, scorer(result))
    except Exception:  # noqa: BLE001 - the coordinator scores it again and reports the error
        return result
