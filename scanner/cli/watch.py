"""``gapscan watch``: the watch service in the foreground, with its signals and its way out."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from gapscan.scanner.cli.options import (
    ServiceFailed,
    UsageProblem,
    check_catalogs,
    config_from_options,
    output_folder,
    parsed_by,
    rebuild_index,
    scan_options,
)
from gapscan.scanner.common.errors import EXIT_FAILED, EXIT_OK


def _serve_address(value: str) -> tuple[str, int]:
    from gapscan.scanner.serve import parse_address

    return parse_address(value)


@click.command("watch")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@scan_options
@click.option("--poll", type=click.FloatRange(0.1, 86_400), is_flag=False, flag_value=5.0, default=None,
              metavar="[SECONDS]",
              help="Look for changes every SECONDS (default 5) instead of waiting for change notifications: "
                   "for SMB/NFS shares, where inotify never fires. Write PATH before a bare --poll.")
@click.option("--serve", metavar="[HOST:]PORT", callback=parsed_by(_serve_address),
              help="Serve the output folder and /health over HTTP, on 127.0.0.1 unless HOST is given.")
@click.option("--debounce", type=click.FloatRange(0, 60), default=0.5, show_default=True, metavar="SECONDS",
              help="Update once nothing has changed for SECONDS.")
def watch_command(path: Path, poll: float | None, serve: tuple[str, int] | None, debounce: float, **options) -> None:
    """Watch PATH and keep the reports in --out current. Stops on Ctrl-C or SIGTERM; SIGHUP compares
    the whole folder with the index again."""
    import logging
    import signal
    import threading

    from gapscan.scanner.watch import STOP_GRACE_SECONDS, WatchService

    config = config_from_options(path, options)
    check_catalogs(config)
    out_dir = output_folder(path, options["out_dir"])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("gapscan").setLevel(
        logging.WARNING if options["quiet"] else logging.DEBUG if options["verbose"] else logging.INFO)
    if options["fail_under"] is not None or options["strict"]:
        click.echo("note: --fail-under and --strict are gates of `gapscan scan`; watch ignores them", err=True)
    rebuild_index(path, options)
    service = WatchService(path, config, out_dir, options["formats"], index_path=options["index_file"],
                           jobs=options["jobs"], poll=poll, debounce=debounce, serve=serve,
                           link_base=options["link_base"] or "")
    handlers = {}
    try:
        # Handlers first: a signal during start-up stops the service as cleanly as one later.
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                handlers[signum] = signal.signal(signum, lambda *_: service.request_stop())
            if hasattr(signal, "SIGHUP"):
                handlers[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: service.request_resync())
        try:
            service.start()
        except OSError as exc:
            raise UsageProblem(f"cannot start: {exc}") from exc
        while not service.wait(0.5):
            if service.stop_requested is not None and time.monotonic() - service.stop_requested > STOP_GRACE_SECONDS:
                break
    finally:
        # Idempotent: joins the worker and closes the server whatever happened above, within the grace
        # period that a stop request started; past it, whatever the worker is doing, the process ends.
        since = service.stop_requested or time.monotonic()
        stopped = service.stop(timeout=max(since + STOP_GRACE_SECONDS - time.monotonic(), 0.1))
        for signum, previous in handlers.items():
            signal.signal(signum, previous)
        if not stopped:
            _end_now(STOP_GRACE_SECONDS, EXIT_OK if service.stop_requested else EXIT_FAILED)
        logging.getLogger().removeHandler(handler)
    if service.error is not None:
        raise ServiceFailed(f"the watch service failed: {service.error}")


def _end_now(grace: float, code: int) -> None:
    """End the process at once: the watch worker did not stop within ``grace`` seconds (a parser
    that never returns, a file system that hangs). The index is SQLite in WAL mode and reports are
    renamed into place, so nothing is left half written; the extraction workers are ended too."""
    import logging
    import multiprocessing
    import signal

    logging.getLogger("gapscan.watch").warning("did not stop within %g s: ending the process and its workers now",
                                               grace)
    for child in multiprocessing.active_children():
        child.kill()
    for pid in _child_pids():  # a git or other helper the worker was waiting for
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(code)


def _child_pids() -> list[int]:
    """This process's children, from /proc (empty where there is none)."""
    children = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        try:
            # /proc/PID/stat: "pid (name) state ppid ..."; the name may hold ")" and spaces.
            if entry.isdigit() and int(Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[1]) == os.getpid():  # noqa: E501
                children.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return children
