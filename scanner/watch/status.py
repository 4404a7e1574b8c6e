"""What the watch service is doing, written by its worker and read by ``/health`` from any thread:
status, the latest batches, coverage, and the problems that make ``/health`` answer 503."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gapscan.scanner.common.clock import now_stamp

# Statuses in which the service does its job (with no problem, /health answers 200).
WORKING = ("watching", "updating", "catching_up")
BATCHES_KEPT = 100


@dataclass(frozen=True)
class BatchSummary:
    """One processed batch (or catch-up), as logged and shown by ``/health``."""

    kind: str  # "batch", "start-up", "resync", "root returned", ...
    files: int  # paths examined
    changed: tuple[str, ...]  # read again (or newly added)
    removed: tuple[str, ...]  # no longer evidence
    unstable: int  # still being written: put back
    seconds: float
    coverage: dict[str, float]  # after the batch
    finished: str  # ISO time


class ServiceState:
    """The service's status fields behind one lock. The worker changes them with :meth:`set`,
    :meth:`published` and :meth:`remember`; any thread reads them with :meth:`health`."""

    def __init__(self, root: Path, stuck_after: float):
        self.root = root
        # A batch with no file done for this long is stuck: longer than any one file may take.
        self.stuck_after = stuck_after
        self.batches: list[BatchSummary] = []  # the latest ones, oldest first
        self._lock = threading.Lock()
        self.status = "created"
        self.root_available = True
        self.report_summary: dict | None = None
        self.coverage: dict[str, float] = {}
        self.last_scan: str | None = None
        self.in_flight = 0
        self.heartbeat = time.monotonic()  # when the worker last made progress
        self.problem: str | None = None  # why the last update failed
        self.observer_kind = ""
        self.started = datetime.now(UTC)

    def set(self, **values) -> None:
        with self._lock:
            for key, value in values.items():
                if not hasattr(self, key):
                    raise AttributeError(f"no status field {key!r}")
                setattr(self, key, value)

    def published(self, coverage: dict[str, float], summary: dict, generated_at: str) -> dict[str, float]:
        """A report was written: its coverage, summary and time; returns the coverage before it."""
        with self._lock:
            previous = self.coverage
            self.coverage = coverage
            self.report_summary = summary
            self.last_scan = generated_at
        return previous

    def remember(self, kind, files, *, changed, removed, unstable, started, coverage) -> BatchSummary:
        summary = BatchSummary(
            kind, files, tuple(changed), tuple(removed), unstable, time.monotonic() - started, coverage,
            now_stamp(),
        )
        with self._lock:
            self.batches.append(summary)
            del self.batches[:-BATCHES_KEPT]
        return summary

    def problems(self, index_lost: Callable[[], str | None] | None) -> list[str]:
        """What is wrong now: the last update failed, the index file is gone (``index_lost`` says;
        None when there is no index yet), a batch is stuck."""
        with self._lock:
            status, problem, quiet = self.status, self.problem, time.monotonic() - self.heartbeat
        found = [problem] if problem else []
        lost = index_lost() if index_lost is not None and status not in ("stopped", "failed") else None
        if lost:
            found.append(lost)
        if status in ("updating", "catching_up") and quiet > self.stuck_after:
            found.append(f"stuck: {status.replace('_', ' ')} has made no progress for {quiet:.0f} s")
        return found

    def health(self, problems: list[str], queued: int) -> dict:
        """The state for ``/health`` (JSON-ready)."""
        with self._lock:
            summary = self.report_summary or {}
            last = self.batches[-1] if self.batches else None
            return {
                "status": self.status,
                "problems": problems,
                "root": str(self.root),
                "root_available": self.root_available,
                "observer": self.observer_kind,
                "last_scan": self.last_scan,
                "documents": summary.get("documents"),
                "readable": summary.get("readable"),
                "queue": queued,
                "in_flight": self.in_flight,
                "coverage": dict(self.coverage),
                "last_batch": None if last is None else {
                    "kind": last.kind, "files": last.files, "changed": len(last.changed),
                    "removed": len(last.removed), "seconds": round(last.seconds, 3), "finished": last.finished,
                },
                "started": self.started.replace(microsecond=0).isoformat(),
            }
