"""What the classifier says about one document and one requirement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """A document's score for a requirement, the section that carried it and the terms behind it.
    ``score`` is in [0, 1]; at or above the classifier's threshold the document is a tag."""

    path: str
    framework: str
    requirement: str
    score: float
    locator: str = ""
    terms: tuple[str, ...] = ()
