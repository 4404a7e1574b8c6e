"""The action plan: every gap once, evidence the crosswalk shares across frameworks first, then
requirements that need records; each action says what to do, what an auditor expects and where to
start. Checked on a hand-built report and in every format that carries it."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from gapscan.reports.actions import action_plan
from gapscan.reports.json_report import report_dict
from gapscan.reports.markdown import render_markdown
from gapscan.reports.model import EvidenceRef, FrameworkResult, GapReport, NearMiss, Related, Verdict
from gapscan.reports.xlsx import render_xlsx

ISO, CMMI = "iso9001-2015", "cmmi-v2-dev"


def _report() -> GapReport:
    iso = FrameworkResult(ISO, "ISO 9001:2015", "2015", (
        Verdict("4.1", "Context of the organization", "4", "missing", "No document is evidence for this requirement.",
                evidence_kind="none", typical_evidence=("SWOT analysis",), shortfall="nothing", section="4"),
        Verdict("7.1.5", "Monitoring and measuring resources", "7.1", "missing",
                "No document is evidence for this requirement.", evidence_kind="retain",
                typical_evidence=("calibration records",), shortfall="nothing", section="7"),
        Verdict("9.2", "Internal audit", "9", "partial", "Evidence is stale.", evidence_kind="retain",
                evidence=(EvidenceRef("audits/IA-2021.pdf", 0.62, modified="2021-06-01"),),
                typical_evidence=("audit programme", "audit reports"), shortfall="stale", section="9",
                related=(Related(CMMI, "PQA 2.2", "intersect", "strong"), Related(CMMI, "PQA 2.3", "intersect", "weak"),
                         Related(CMMI, "PQA", "intersect", "strong"))),
        Verdict("9.3.3", "Management review outputs", "9.3", "covered", "Evidenced by mr.docx.",
                evidence=(EvidenceRef("mr/minutes-2026.docx", 0.7),), section="9"),
        Verdict("10.2", "Nonconformity and corrective action", "10", "partial",
                "Only a blank template (forms/capa-form.docx): the filled-in document is not there.",
                evidence_kind="retain", evidence=(EvidenceRef("forms/capa-form.docx", 0.45),),
                near_misses=(NearMiss("capa.md", 0.2),), shortfall="template", section="10"),
    ))
    cmmi = FrameworkResult(CMMI, "CMMI V2.0 Development", "2.0", (
        Verdict("GOV 2.4", "Review activities with senior management", "GOV", "missing", "No document.",
                evidence_kind="retain", shortfall="nothing", section="GOV", level=2,
                related=(Related(ISO, "9.3.3", "intersect", "strong"),)),
        Verdict("PQA 2.2", "Objectively evaluate", "PQA", "missing", "No document.", evidence_kind="retain",
                shortfall="nothing", section="PQA", level=2, related=(Related(ISO, "9.2", "intersect", "strong"),)),
        Verdict("PQA 2.3", "Communicate noncompliances", "PQA", "missing", "No document.", evidence_kind="retain",
                shortfall="nothing", section="PQA", level=2, related=(Related(ISO, "9.2", "intersect", "weak"),)),
        Verdict("PQA 2.1", "Develop a QA approach", "PQA", "partial", "Evidence is stale.", evidence_kind="maintain",
                shortfall="stale", section="PQA", level=2, evidence=(EvidenceRef("qa/plan-2019.md", 0.35),)),
    ), level=3)
    return GapReport("0.1.0", "2026-05-02T10:00:00+00:00", "/qms", (iso, cmmi), ())


def test_shared_evidence_comes_first_and_each_gap_is_in_one_action():
    actions = action_plan(_report())
    closed = [(g.framework, g.requirement) for a in actions for g in a.closes]
    gaps = [(fw.id, v.id) for fw in _report().frameworks for v in fw.verdicts if v.status in ("missing", "partial")]
    assert sorted(closed) == sorted(gaps) and len(closed) == len(set(closed))  # every gap, once

    first = actions[0]
    # One internal-audit record closes ISO 9.2 and CMMI PQA 2.2: a weak link (PQA 2.3) and a link to
    # a whole practice area (PQA) do not count as closing a practice.
    assert (first.framework, first.requirement) == (ISO, "9.2")
    assert [(g.framework, g.requirement) for g in first.closes] == [(ISO, "9.2"), (CMMI, "PQA 2.2")]
    assert first.frameworks == (ISO, CMMI)
    assert first.step.startswith("Bring the evidence up to date")
    assert first.expected == ("Records must show that the activity is actually done; "
                              "for example audit programme, audit reports.")
    assert first.start_from.path == "audits/IA-2021.pdf" and first.start_from.why == "closest match"

    # Then what closes one gap: records required first, then the report's framework order, missing
    # before partial.
    order = [(a.framework, a.requirement) for a in actions[1:]]
    assert order == [(ISO, "7.1.5"), (ISO, "10.2"), (CMMI, "GOV 2.4"), (CMMI, "PQA 2.3"), (ISO, "4.1"),
                     (CMMI, "PQA 2.1")]
    assert [a.rank for a in actions] == list(range(1, 8))


def test_each_action_says_what_to_do_and_where_to_start():
    actions = {(a.framework, a.requirement): a for a in action_plan(_report())}
    template = actions[(ISO, "10.2")]
    assert template.headline == "Fill it in"
    assert template.step == ("Fill it in: only a blank template (forms/capa-form.docx) was found; "
                             "keep the completed document.")
    assert template.start_from.path == "forms/capa-form.docx" and template.start_from.score == 0.45
    assert actions[(CMMI, "PQA 2.1")].step == ("Bring the evidence up to date: the newest is older than the age limit; "
                                               "review it, or produce a maintained document dated within the limit.")
    # Nothing of its own: start from a document that is evidence for the ISO clause the crosswalk links.
    borrowed = actions[(CMMI, "GOV 2.4")]
    assert borrowed.start_from.path == "mr/minutes-2026.docx"
    assert borrowed.start_from.why == "evidence for ISO 9.3.3, which shares evidence with it"
    assert actions[(ISO, "7.1.5")].start_from is None
    assert actions[(ISO, "7.1.5")].step == "Produce records: nothing in the scanned folder is evidence for it yet."
    assert actions[(ISO, "4.1")].expected.startswith("No document or record is mandatory, but an auditor still asks")


def test_the_plan_is_in_json_markdown_and_xlsx():
    report = _report()
    data = json.loads(json.dumps(report_dict(report)))
    assert data["schema"] == "gapscan.report/2"
    first = data["actions"][0]
    assert first["rank"] == 1 and first["requirement"] == "9.2" and first["needs"] == "retain"
    assert first["closes"][1] == {"framework": CMMI, "requirement": "PQA 2.2", "title": "Objectively evaluate",
                                  "status": "missing"}
    assert first["start_from"] == {"path": "audits/IA-2021.pdf", "score": 0.62, "why": "closest match"}
    assert data["gate"] is None  # no baseline, waivers or gate options

    md = render_markdown(report)
    assert "### Action plan" in md
    assert "1. **ISO `9.2` Internal audit** (\u25d0 partial), also closes CMMI `PQA 2.2`: Bring the evidence" in md

    book = load_workbook(io.BytesIO(render_xlsx(report)))
    rows = [[c.value for c in row] for row in book["Action plan"].iter_rows()]
    assert rows[0][:6] == ["Rank", "Framework", "Requirement", "Title", "Status", "What to do"]
    assert rows[1][:5] == [1, ISO, "9.2", "Internal audit", "partial"]
    assert rows[1][-1] == f"{CMMI} PQA 2.2 (missing)"
    assert len(rows) == 1 + len(action_plan(report))


def test_no_gaps_no_actions():
    fw = FrameworkResult(ISO, "ISO", "1", (Verdict("4.1", "Context", "4", "covered", "ok"),))
    report = GapReport("0.1.0", "2026-05-02", "/qms", (fw,), ())
    assert action_plan(report) == ()
    assert "### Action plan" not in render_markdown(report)
