"""Cyclic garbage collection paused while a scan builds its long-lived results."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the block without cyclic garbage collection (reference counting still frees memory).

    Loading a collection's scores, deciding its evidence and rendering its report build hundreds of
    thousands of small objects that all live to the end and hold no cycles; the collector would
    traverse every one of them again and again as they accumulate (a third of a rescan's time). Not
    for blocks that fork worker processes (they would inherit the pause) or parse documents."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
