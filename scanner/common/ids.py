"""Requirement ids as every list sorts them."""

from __future__ import annotations

import re

_ID_PART = re.compile(r"\d+|[^\W\d_]+")


def requirement_order(requirement_id: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for requirement ids, numbers compared as numbers: 8.2 < 8.10, and CMMI practice
    areas alphabetically, then by practice number ("CAR 3.1" < "CM 1.1" < "CM 2.1")."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in _ID_PART.findall(requirement_id))
