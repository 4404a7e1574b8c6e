"""Baselines, waivers and gates: the diff by identity (never position), waiver expiry, and the
exit codes of ``gapscan scan --baseline/--fail-on/--waivers/--partial-ok`` on a real tree."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from gapscan.reports.gate import (
    BaselineError,
    Publication,
    Waiver,
    WaiverError,
    WaiverReview,
    compare,
    gate_failures,
    load_baseline,
    load_waivers,
    parse_baseline,
    parse_waivers,
    review_waivers,
)
from gapscan.reports.json_report import report_dict
from gapscan.reports.model import DocumentEntry, FrameworkResult, GapReport, Tag, Verdict
from gapscan.scanner.cli import main

TODAY = date(2026, 5, 2)


def _report(statuses: dict[str, str], documents: list[tuple[str, str, list[str]]]) -> GapReport:
    """One framework "fw" with these requirement statuses; documents are (path, sha, [tagged ids])."""
    verdicts = tuple(Verdict(rid, f"Title {rid}", rid.split(".")[0], status, "why") for rid, status in statuses.items())
    docs = tuple(
        DocumentEntry(path, "md", 10, sha, "2026-01-01", "ok", None, "", tuple(Tag("fw", r, 0.5) for r in tags))
        for path, sha, tags in documents
    )
    return GapReport("0.1.0", "2026-05-02T10:00:00+00:00", "/qms", (FrameworkResult("fw", "FW", "1", verdicts),), docs)


BEFORE = _report(
    {"1.1": "covered", "1.2": "covered", "2.1": "partial", "2.2": "missing", "3.1": "missing", "3.2": "covered"},
    [("a.md", "A" * 64, ["1.1", "1.2"]), ("b.md", "B" * 64, ["1.2", "3.2"]), ("c.md", "C" * 64, ["2.1"]),
     ("gone.md", "G" * 64, ["3.2"])],
)


def baseline_of(report: GapReport):
    return parse_baseline(json.loads(json.dumps(report_dict(report))), "old/report.json")


def test_diff_finds_new_resolved_improved_shrunk_and_gone():
    after = _report(
        {"1.1": "covered", "1.2": "missing", "2.1": "missing", "2.2": "covered", "3.1": "partial", "3.2": "covered",
         "4.1": "missing"},
        [("a.md", "A" * 64, ["1.1", "2.2"]), ("b.md", "B" * 64, ["3.2"]), ("c.md", "C" * 64, [])],
    )
    diff = compare(baseline_of(BEFORE), after)
    assert [(c.requirement, c.before, c.after) for c in diff.new_gaps] == [
        ("1.2", "covered", "missing"), ("2.1", "partial", "missing"), ("4.1", None, "missing")]
    assert [(c.requirement, c.before, c.after) for c in diff.resolved] == [("2.2", "missing", "covered")]
    assert [(c.requirement, c.before, c.after) for c in diff.improved] == [("3.1", "missing", "partial")]
    shrunk = {loss.requirement: loss for loss in diff.shrunk}
    assert set(shrunk) == {"1.2", "2.1", "3.2"}
    assert shrunk["1.2"].lost == ("a.md", "b.md") and shrunk["1.2"].remaining == 0
    assert shrunk["3.2"].lost == ("gone.md",) and shrunk["3.2"].status == "covered" and shrunk["3.2"].remaining == 1
    assert diff.disappeared == ("gone.md",)
    assert diff.changed and diff.source == "old/report.json"
    assert diff.coverage_of("fw") == BEFORE.frameworks[0].coverage


def test_identity_is_content_and_ids_never_position():
    # Everything renamed, reordered and listed backwards: nothing changed.
    moved = replace(
        BEFORE,
        frameworks=(replace(BEFORE.frameworks[0], verdicts=BEFORE.frameworks[0].verdicts[::-1]),),
        documents=tuple(replace(d, path=f"archive/2026/{d.path.upper()}") for d in BEFORE.documents[::-1]),
    )
    diff = compare(baseline_of(BEFORE), moved)
    assert not diff.changed, diff
    # Edited in place (same path, new content): the same document, still evidence.
    edited = replace(BEFORE, documents=tuple(replace(d, sha256="E" * 64) if d.path == "a.md" else d
                                             for d in BEFORE.documents))
    assert not compare(baseline_of(BEFORE), edited).changed


def test_frameworks_and_catalog_versions_not_in_the_baseline_are_notes():
    other = replace(BEFORE, frameworks=(replace(BEFORE.frameworks[0], id="other"),))
    diff = compare(baseline_of(BEFORE), other)
    assert not diff.new_gaps and "other is not in the baseline" in diff.notes[0]
    assert diff.notes[1] == "fw is in the baseline but was not assessed in this scan."
    newer = replace(BEFORE, frameworks=(replace(BEFORE.frameworks[0], version="2"),))
    assert "catalog version 1, this scan 2" in compare(baseline_of(BEFORE), newer).notes[0]


@pytest.mark.parametrize("content, message", [
    ("not json", "not a JSON report"),
    ('{"schema": "other/1"}', "not a gapscan report"),
    ('[1, 2]', "not a gapscan report"),
    ('{"schema": "gapscan.report/1", "frameworks": [{"id": "x"}], "documents": []}', "malformed"),
])
def test_unusable_baselines_are_errors(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)


# -- waivers ------------------------------------------------------------------------------------------


def test_waivers_apply_expire_and_go_unused(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text(
        '[[waiver]]\nframework = "fw"\nrequirement = "2.2"\nreason = "Tracked in CAPA-7"\nexpires = 2026-12-31\n'
        '[[waiver]]\nframework = "fw"\nrequirement = "3"\nreason = "Group"\nexpires = "2026-05-02"\n'
        '[[waiver]]\nframework = "fw"\nrequirement = "2.1"\nreason = "Old"\nexpires = 2026-05-01\n'
        '[[waiver]]\nframework = "fw"\nrequirement = "1.1"\nreason = "Covered now"\nexpires = 2027-01-01\n',
        encoding="utf-8",
    )
    waivers = load_waivers(path)
    assert waivers[0] == Waiver("fw", "2.2", "Tracked in CAPA-7", date(2026, 12, 31))
    review = review_waivers(waivers, BEFORE, TODAY)
    assert review.waiver_for("fw", "2.2").reason == "Tracked in CAPA-7"
    assert review.waiver_for("fw", "3.1").reason == "Group"  # a group id covers its members; the last day counts
    assert review.waiver_for("fw", "2.1") is None  # expired yesterday: no longer applies
    assert [w.requirement for w in review.expired] == ["2.1"]
    assert [w.requirement for w in review.unused] == ["1.1"]


@pytest.mark.parametrize("text, message", [
    ('[[waiver]]\nframework = "fw"\nrequirement = "1"\nexpires = 2027-01-01\n', "reason is required"),
    ('[[waiver]]\nframework = "fw"\nrequirement = "1"\nreason = "r"\n', "expires is required"),
    ('[[waiver]]\nframework = "fw"\nrequirement = 9.2\nreason = "r"\nexpires = 2027-01-01\n', "as a string"),
    ('[[waiver]]\nframework = "fw"\nrequirement = "1"\nreason = "r"\nexpires = "soon"\n', "a date such as"),
    ('[[waiver]]\nframework = "fw"\nrequirement = "1"\nreason = "r"\nexpires = 2027-01-01\nowner = "x"\n', "unknown"),
    ('[waivers]\n', "unknown key"),
    ('waiver = "x"\n', "array of tables"),
])
def test_bad_waivers_are_errors(text, message):
    import tomllib

    with pytest.raises(WaiverError, match=message):
        parse_waivers(tomllib.loads(text))


# -- gates --------------------------------------------------------------------------------------------


def test_gates_any_gap_new_gaps_waivers_and_partial_ok():
    after = _report({"1.1": "covered", "1.2": "partial", "2.1": "partial", "2.2": "missing", "3.1": "missing",
                     "3.2": "missing"}, [])
    diff = compare(baseline_of(BEFORE), after)
    assert [c.requirement for c in diff.new_gaps] == ["1.2", "3.2"]
    assert gate_failures(after, Publication(diff=diff)) == []  # fail_on defaults to none
    failed = gate_failures(after, Publication(diff=diff, fail_on="new-gaps"))
    assert failed == ["2 new gap(s) since the baseline (--fail-on new-gaps): fw 1.2 (covered \u2192 partial), "
                      "fw 3.2 (covered \u2192 missing)"]
    # A new partial gap passes with --partial-ok; a waiver takes the other one out.
    waived = review_waivers((Waiver("fw", "3.2", "accepted", date(2027, 1, 1)),), after, TODAY)
    assert gate_failures(after, Publication(diff=diff, fail_on="new-gaps", partial_ok=True, waivers=waived)) == []
    assert gate_failures(after, Publication(fail_on="new-gaps")) == ["--fail-on new-gaps needs --baseline"]
    any_gap = gate_failures(after, Publication(fail_on="any-gap", partial_ok=True, waivers=waived))
    assert any_gap == ["2 gap(s) (--fail-on any-gap): fw 2.2, fw 3.1"]
    assert gate_failures(replace(after, frameworks=()), Publication(fail_on="any-gap")) == []
    assert Publication().waivers == WaiverReview()


# -- the command line on a real tree ---------------------------------------------------------------------

POLICY = """# Quality policy
Top management sets this quality policy: we commit to customer satisfaction, to meeting applicable
requirements and to continual improvement of the quality management system. The policy is
communicated to all staff, understood and applied, and reviewed at each management review.
"""
REVIEW = """# Management review minutes, March 2026
Management review meeting chaired by top management. Inputs: status of actions from previous
management reviews, customer satisfaction, audit results, process performance. Outputs: decisions
on improvement opportunities, changes to the quality management system and resource needs.
"""


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "qms"
    root.mkdir()
    (root / "quality-policy.md").write_text(POLICY, encoding="utf-8")
    (root / "management-review-2026-03.md").write_text(REVIEW, encoding="utf-8")
    return tmp_path


def run(tree: Path, *args: str):
    return CliRunner().invoke(
        main, ["scan", str(tree / "qms"), "--out", str(tree / "out"), "--index", str(tree / "index.sqlite"),
               "--jobs", "1", "--quiet", *args], catch_exceptions=False)


def test_cli_fails_on_new_gaps_against_a_baseline_and_waivers_accept_them(tree):
    first = run(tree, "--format", "json")
    assert first.exit_code == 0, first.output
    baseline = tree / "baseline.json"
    baseline.write_text((tree / "out" / "report.json").read_text(encoding="utf-8"), encoding="utf-8")
    old = json.loads(baseline.read_text(encoding="utf-8"))
    iso_before = {r["id"]: r["status"] for r in old["frameworks"][0]["requirements"]}
    assert iso_before["5.2.1"] == "covered"

    # Unchanged: no new gaps, exit 0.
    same = run(tree, "--format", "json,md", "--baseline", str(baseline), "--fail-on", "new-gaps")
    assert same.exit_code == 0, same.output
    assert "**0 new gaps**" in (tree / "out" / "report.md").read_text(encoding="utf-8")

    # The policy is deleted: its requirements become gaps, the gate fails with exit code 1.
    (tree / "qms" / "quality-policy.md").unlink()
    lost = run(tree, "--format", "md,json", "--baseline", str(baseline), "--fail-on", "new-gaps")
    assert lost.exit_code == 1
    assert "new gap(s) since the baseline" in lost.output
    assert "iso9001-2015 5.2.1 (covered \u2192 missing)" in lost.output
    md = (tree / "out" / "report.md").read_text(encoding="utf-8")
    assert "Gate `--fail-on new-gaps` failed" in md and "`quality-policy.md`" in md

    # Waive every new gap: the run passes, and the expired waiver is reported.
    rank = {"missing": 0, "partial": 1, "covered": 2, "not_applicable": 3}
    now = json.loads((tree / "out" / "report.json").read_text(encoding="utf-8"))
    before = {(f["id"], r["id"]): r["status"] for f in old["frameworks"] for r in f["requirements"]}
    new = [(f["id"], r["id"]) for f in now["frameworks"] for r in f["requirements"]
           if r["status"] in ("missing", "partial") and rank[r["status"]] < rank[before[(f["id"], r["id"])]]]
    assert ("iso9001-2015", "5.2.1") in new
    waivers = tree / "waivers.toml"
    entries = [f'[[waiver]]\nframework = "{fw}"\nrequirement = "{rid}"\nreason = "Policy being rewritten"\n'
               f"expires = 2099-12-31\n" for fw, rid in new]
    entries.append('[[waiver]]\nframework = "iso9001-2015"\nrequirement = "4.1"\nreason = "old"\n'
                   'expires = 2020-01-01\n')
    waivers.write_text("\n".join(entries), encoding="utf-8")
    accepted = CliRunner().invoke(
        main, ["scan", str(tree / "qms"), "--out", str(tree / "out"), "--index", str(tree / "index.sqlite"),
               "--jobs", "1", "--format", "md", "--baseline", str(baseline), "--fail-on", "new-gaps",
               "--waivers", str(waivers)], catch_exceptions=False)
    assert accepted.exit_code == 0, accepted.output
    assert "waiver for iso9001-2015 4.1 expired on 2020-01-01" in accepted.output
    assert "Done in" in accepted.output
    assert "**Expired** on 2020-01-01" in (tree / "out" / "report.md").read_text(encoding="utf-8")


def test_cli_usage_errors_exit_2(tree):
    assert run(tree, "--fail-on", "new-gaps").exit_code == 2
    bad = tree / "bad.json"
    bad.write_text('{"schema": "something/else"}', encoding="utf-8")
    result = run(tree, "--baseline", str(bad))
    assert result.exit_code == 2 and "not a gapscan report" in result.output
    waivers = tree / "w.toml"
    waivers.write_text('[[waiver]]\nframework = "x"\n', encoding="utf-8")
    result = run(tree, "--waivers", str(waivers))
    assert result.exit_code == 2 and "requirement is required" in result.output
    assert run(tree, "--fail-on", "sometimes").exit_code == 2


def test_config_sets_fail_on_and_waivers(tree):
    (tree / "qms" / "gapscan.toml").write_text(
        'fail_on = "any-gap"\nwaivers = "accepted.toml"\nframeworks = ["iso9001-2015"]\n', encoding="utf-8")
    (tree / "qms" / "accepted.toml").write_text("", encoding="utf-8")
    result = run(tree, "--format", "json")
    assert result.exit_code == 1 and "(--fail-on any-gap)" in result.output
    assert run(tree, "--format", "json", "--fail-on", "none").exit_code == 0  # the flag overrides the file
    (tree / "qms" / "gapscan.toml").write_text('fail_on = "always"\n', encoding="utf-8")
    result = run(tree)
    assert result.exit_code == 2 and "fail_on must be one of" in result.output
