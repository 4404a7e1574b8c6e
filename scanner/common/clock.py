"""Timestamps as gapscan reads and shows them: ISO 8601, in UTC where the zone is known."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 date or timestamp ("2024-05-02T14:03:11Z", "...+00:00", "2024-05-02"), or None
    when ``value`` is not one."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def now_stamp() -> str:
    """This moment as report.json and the watch status record it: "2024-05-02T14:03:11+00:00"."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def timestamp_text(moment: datetime) -> str:
    """"2024-05-02 14:03 UTC": minutes, and the offset where it is not UTC (none when unknown)."""
    text = moment.strftime("%Y-%m-%d %H:%M")
    if moment.tzinfo is not None:
        text += " UTC" if not moment.utcoffset() else moment.strftime(" %z")
    return text
