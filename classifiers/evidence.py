"""What the classifier says about one document and one requirement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One test of the tag decision: what was measured (``value``), what it had to reach
    (``limit``), and whether it did. ``basis`` is what the limit was derived from, where one was
    (the document's best score in the framework, for the relative cutoff)."""

    name: str  # one of CHECKS
    passed: bool
    value: float
    limit: float
    basis: float = 0.0


# What each check means, for `gapscan explain`: (when it passes, when it fails).
CHECKS = {
    "threshold": ("score {value:.2f} reaches the tag threshold {limit:.2f}",
                  "score {value:.2f} is below the tag threshold {limit:.2f}"),
    "relative": ("score {value:.2f} is within reach of the document's best score in this framework, "
                 "{basis:.2f} (needs {limit:.2f}): the document is about this",
                 "score {value:.2f} is far below the document's best score in this framework, {basis:.2f} "
                 "(needs {limit:.2f}): the document is mainly about other requirements"),
    "content": ("{value:.0f} words of its own (at least {limit:.0f} needed)",
                "only {value:.0f} words of its own, fewer than {limit:.0f}: too little text to be evidence"),
    "records": ("the record rule allows it (a record of an activity, such as a training record, is evidence "
                "only for what such records show)",
                "the name says it records another activity (a training record): in this framework it is "
                "evidence only for what such records show"),
}


def describe(check: Check) -> str:
    passed, failed = CHECKS[check.name]
    return (passed if check.passed else failed).format(value=check.value, limit=check.limit, basis=check.basis)


@dataclass(frozen=True)
class Evidence:
    """A document's score for a requirement, the section that carried it and the terms behind it.
    ``score`` is in [0, 1]; ``tag`` is the classifier's decision that the document is evidence,
    ``checks`` the tests behind that decision (filled when the classifier is asked to explain)."""

    path: str
    framework: str
    requirement: str
    score: float
    locator: str = ""
    terms: tuple[str, ...] = ()
    tag: bool = False
    checks: tuple[Check, ...] = ()
