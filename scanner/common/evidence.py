"""What the classifier says about one document and one requirement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """One step of the tag decision: its name, whether the score passed it, and what was weighed
    ("0.52 against this folder's baseline, at least 0.35 needed")."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """A document's score for a requirement, the section that carried it and the terms behind it.
    ``score`` is in [0, 1]; ``tag`` is the classifier's decision that the document is evidence,
    ``decision`` why it is or is not one, and ``checks`` every step of that decision in order."""

    path: str
    framework: str
    requirement: str
    score: float
    locator: str = ""
    terms: tuple[str, ...] = ()
    tag: bool = False
    decision: str = ""  # why it is, or is not, a tag (see classifiers.tfidf.Tagger.decide)
    checks: tuple[Check, ...] = ()
