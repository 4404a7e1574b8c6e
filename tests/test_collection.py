"""collection_paused: the cyclic garbage collector is off inside the block and back on after it;
what the block built is not traversed by a collection the moment it ends, yet not kept for good."""

from __future__ import annotations

import gc
import weakref

import pytest

from gapscan.scanner.common.collection import collection_paused


class _Node:
    def __init__(self) -> None:
        self.itself = self  # a cycle: reference counting alone never frees it


@pytest.fixture(autouse=True)
def _collector_enabled():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_is_off_inside_the_block_and_on_after_it():
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def _collections() -> int:
    return sum(generation["collections"] for generation in gc.get_stats())


def test_what_the_block_built_starts_no_collection_when_it_ends():
    threshold = gc.get_threshold()[0]
    with collection_paused():
        built = [[number] for number in range(10 * threshold)]
        inside = _collections()
    # Otherwise the first allocation after the block starts a collection that traverses all of it.
    assert _collections() == inside
    assert len(built) == 10 * threshold


def test_cycles_built_in_the_block_are_still_collected():
    with collection_paused():
        node = _Node()
        watched = weakref.ref(node)
        del node
    assert watched() is not None
    gc.collect()
    assert watched() is None
