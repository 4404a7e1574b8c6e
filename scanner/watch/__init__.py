"""``gapscan watch``: keep the report current while the documents change.

- :mod:`.queue`: the debounced change queue and the stability check of changed files;
- :mod:`.events`: watchdog events to queue entries (what is ignored, what means "resync");
- :mod:`.observer`: the watchdog observer's life cycle and the alarm for lost events;
- :mod:`.root`: whether the watched root is still there, and still the same folder;
- :mod:`.status`: what the service is doing, for ``/health``;
- :mod:`.service`: :class:`WatchService`, which wires them to the scan pipeline.
"""

from gapscan.scanner.watch.events import EventMapper
from gapscan.scanner.watch.observer import DEFAULT_POLL_SECONDS, WATCHED_EVENTS, TreeObserver
from gapscan.scanner.watch.queue import (
    DEFAULT_DEBOUNCE_SECONDS,
    DEFAULT_MAX_DELAY_SECONDS,
    RESYNC,
    Change,
    ChangeQueue,
    Look,
    look_at,
    split_stable,
)
from gapscan.scanner.watch.root import DEFAULT_ROOT_CHECK_SECONDS, RootMonitor
from gapscan.scanner.watch.service import MAX_RETRY_SECONDS, STOP_GRACE_SECONDS, WatchService
from gapscan.scanner.watch.status import WORKING, BatchSummary, ServiceState

__all__ = [
    "DEFAULT_DEBOUNCE_SECONDS", "DEFAULT_MAX_DELAY_SECONDS", "DEFAULT_POLL_SECONDS", "DEFAULT_ROOT_CHECK_SECONDS",
    "MAX_RETRY_SECONDS", "RESYNC", "STOP_GRACE_SECONDS", "WATCHED_EVENTS", "WORKING", "BatchSummary", "Change",
    "ChangeQueue", "EventMapper", "Look", "RootMonitor", "ServiceState", "TreeObserver", "WatchService", "look_at",
    "split_stable",
]
