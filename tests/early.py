"""Checks whose cost is subprocesses (mypy, building and installing the wheel) start when the test
session starts, on a thread of their own, while the rest of the suite runs on the other core; the
test that asserts on one waits for its result. Only the checks of the tests that were collected and
selected start (tests/conftest.py): ``pytest tests/test_cli.py`` starts none. In a pytest-xdist
worker, where the other core runs the other worker, a check starts when its test asks for it.

A test module registers the work with ``@early("name")`` and marks its test ``@pytest.mark.early("name")``;
the test reads the result from the ``early_results`` fixture, where an exception raised by the work
is raised again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

# name -> the work, given an empty folder of its own
WORK: dict[str, Callable[[Path], Any]] = {}


def early(name: str) -> Callable[[Callable[[Path], Any]], Callable[[Path], Any]]:
    def register(work: Callable[[Path], Any]) -> Callable[[Path], Any]:
        WORK[name] = work
        return work

    return register
