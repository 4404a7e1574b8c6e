"""A requirement's status and the names of the gates, as every stage and every format spells them."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What assessment says about one requirement. Members are strings ("covered"), so JSON,
    templates and comparisons with plain strings see exactly the values report.json documents."""

    COVERED = "covered"
    PARTIAL = "partial"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


STATUSES = tuple(Status)
# A gap is a requirement that is missing or only partly evidenced.
GAP_STATUSES = (Status.MISSING, Status.PARTIAL)

# ``--fail-on`` / ``fail_on``: which gaps fail the run.
FAIL_ON = ("new-gaps", "any-gap", "none")
