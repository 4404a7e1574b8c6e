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
            # What the block built lives on. Moved straight into the oldest generation (freeze, then
            # unfreeze: two list splices), it is not all traversed by the collection that the first
            # allocation would otherwise start (a tenth of an unchanged rescan's time); cycles among
            # it are still found by the next full collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
