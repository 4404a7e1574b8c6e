"""The gate stage, between assessment and the renderers: what changed since a baseline
(``baseline``), which gaps are waived (``waivers``), and whether the run fails (``policy``)."""

from gapscan.reports.gate.baseline import (
    BASELINE_SCHEMAS,
    Baseline,
    BaselineDiff,
    BaselineError,
    EvidenceLoss,
    StatusChange,
    compare,
    load_baseline,
    parse_baseline,
)
from gapscan.reports.gate.policy import Publication, check_gates, gate_failures
from gapscan.reports.gate.waivers import Waiver, WaiverError, WaiverReview, load_waivers, parse_waivers, review_waivers

__all__ = [
    "BASELINE_SCHEMAS",
    "Baseline",
    "BaselineDiff",
    "BaselineError",
    "EvidenceLoss",
    "Publication",
    "StatusChange",
    "Waiver",
    "WaiverError",
    "WaiverReview",
    "check_gates",
    "compare",
    "gate_failures",
    "load_baseline",
    "load_waivers",
    "parse_baseline",
    "parse_waivers",
    "review_waivers",
]
