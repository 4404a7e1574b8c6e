"""Waivers: gaps accepted for a while, each with a reason and an expiry date. An expired waiver
stops applying and is reported, and so is a waiver that matches no gap.

Waivers file (TOML)::

    [[waiver]]
    framework = "iso9001-2015"
    requirement = "7.1.5"          # a requirement, or a group id such as "8.3" or "SAM"
    reason = "Calibration records move to the new system in Q1; tracked in CAPA-112."
    expires = 2027-01-31           # last day the waiver applies (a TOML date or "YYYY-MM-DD")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from gapscan.reports.model import GapReport, Verdict
from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.reading import InputError, read_toml
from gapscan.scanner.common.status import GAP_STATUSES


class WaiverError(ValueError, GapscanError):
    """A waivers file that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class Waiver:
    framework: str
    requirement: str  # a requirement id or a group (parent) id
    reason: str
    expires: date  # the last day it applies

    def matches(self, framework: str, verdict: Verdict) -> bool:
        return framework == self.framework and self.requirement in (verdict.id, verdict.parent)

    def label(self) -> str:
        return f"waived until {self.expires.isoformat()}: {self.reason}"


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    try:
        data = read_toml(path)
    except InputError as exc:
        raise WaiverError(f"waivers: {exc}") from None
    return parse_waivers(data, str(path))


def parse_waivers(data: dict, source: str = "waivers") -> tuple[Waiver, ...]:
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise WaiverError(f"{source}: unknown key(s): {', '.join(unknown)}; write [[waiver]] tables")
    entries = data.get("waiver", [])
    if not isinstance(entries, list):
        raise WaiverError(f"{source}: waiver must be an array of tables ([[waiver]])")
    waivers = []
    for number, entry in enumerate(entries, 1):
        where = f"{source}: waiver #{number}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where} must be a table")
        extra = sorted(set(entry) - {"framework", "requirement", "reason", "expires"})
        if extra:
            raise WaiverError(f"{where}: unknown key(s): {', '.join(extra)}")
        values = {}
        for key in ("framework", "requirement", "reason"):
            value = entry.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "requirement":
                raise WaiverError(f"{where}: write the requirement id as a string (\"{value}\")")
            if not isinstance(value, str) or not value.strip():
                raise WaiverError(f"{where}: {key} is required (a non-empty string)")
            values[key] = value.strip()
        expires = entry.get("expires")
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires.strip())
            except ValueError:
                raise WaiverError(f"{where}: expires must be a date such as 2027-01-31") from None
        elif isinstance(expires, datetime):  # a TOML datetime
            expires = expires.date()
        if not isinstance(expires, date):
            raise WaiverError(f"{where}: expires is required (a date such as 2027-01-31)")
        waivers.append(Waiver(values["framework"], values["requirement"], values["reason"], expires))
    return tuple(waivers)


@dataclass(frozen=True)
class WaiverReview:
    """Which waivers apply to this report, and which do not any more."""

    applied: tuple[tuple[str, str, Waiver], ...] = ()  # (framework, requirement, waiver) per waived gap
    expired: tuple[Waiver, ...] = ()
    unused: tuple[Waiver, ...] = ()  # in force, but no gap matches (the evidence is there now?)

    def waiver_for(self, framework: str, requirement: str) -> Waiver | None:
        for fw, rid, waiver in self.applied:
            if fw == framework and rid == requirement:
                return waiver
        return None


def review_waivers(waivers: tuple[Waiver, ...], report: GapReport, today: date) -> WaiverReview:
    expired = tuple(w for w in waivers if w.expires < today)
    live = [w for w in waivers if w.expires >= today]
    applied, used = [], set()
    for framework in report.frameworks:
        for verdict in framework.verdicts:
            if verdict.status not in GAP_STATUSES:
                continue
            # The most specific waiver wins: one for the requirement before one for its group.
            matching = sorted(
                (w for w in live if w.matches(framework.id, verdict)), key=lambda w: w.requirement != verdict.id
            )
            if matching:
                applied.append((framework.id, verdict.id, matching[0]))
                used.add(matching[0])
    unused = tuple(w for w in live if w not in used)
    return WaiverReview(tuple(applied), expired, unused)
