"""The helpers every stage shares (``gapscan.scanner.common``): one way each to clean text, encode
a path for a URI, read and show a timestamp, and name a status."""

import json
from datetime import UTC, datetime, timedelta, timezone

from gapscan.scanner.common.clock import parse_timestamp, timestamp_text
from gapscan.scanner.common.names import display_path, name_bytes, percent_encoded
from gapscan.scanner.common.status import GAP_STATUSES, STATUSES, Status
from gapscan.scanner.common.text import clean_text


def test_clean_text_replaces_each_lone_surrogate_and_keeps_the_rest():
    assert clean_text("caf\udce9 report") == "caf\ufffd report"
    assert clean_text("\ud800x\udfff") == "\ufffdx\ufffd"
    assert clean_text(None) == ""
    assert clean_text(3.5) == "3.5"
    assert clean_text("Qualität ✓") == "Qualität ✓"
    clean_text("caf\udce9").encode("utf-8")  # a UTF-8 writer accepts it


def test_percent_encoded_holds_the_exact_bytes_of_a_name():
    latin1 = b"caf\xe9.txt".decode("utf-8", "surrogateescape")  # a name that is not UTF-8
    assert percent_encoded(latin1) == "caf%E9.txt"
    assert percent_encoded("Qualität.md") == "Qualit%C3%A4t.md"
    assert percent_encoded("a/b c#?.md") == "a%2Fb%20c%23%3F.md"
    assert percent_encoded("/srv/qms docs", safe="/") == "/srv/qms%20docs"
    assert percent_encoded(name_bytes(display_path(latin1))) == "caf%E9.txt"


def test_timestamps_are_read_with_or_without_a_zone_and_shown_to_the_minute():
    assert parse_timestamp("2024-05-02T14:03:11Z") == datetime(2024, 5, 2, 14, 3, 11, tzinfo=UTC)
    assert parse_timestamp("2024-05-02") == datetime(2024, 5, 2)
    assert parse_timestamp("last Tuesday") is None
    assert parse_timestamp(None) is None
    assert timestamp_text(parse_timestamp("2024-05-02T14:03:11+00:00")) == "2024-05-02 14:03 UTC"
    assert timestamp_text(datetime(2024, 5, 2, 16, 3, tzinfo=timezone(timedelta(hours=2)))) == "2024-05-02 16:03 +0200"
    assert timestamp_text(datetime(2024, 5, 2, 16, 3)) == "2024-05-02 16:03"


def test_statuses_are_the_strings_report_json_documents():
    assert [str(status) for status in STATUSES] == ["covered", "partial", "missing", "not_applicable"]
    assert set(GAP_STATUSES) == {"missing", "partial"}
    assert json.dumps({Status.PARTIAL: [Status.MISSING]}) == '{"partial": ["missing"]}'
    assert f"{Status.NOT_APPLICABLE}" == "not_applicable" and Status("covered") is Status.COVERED
