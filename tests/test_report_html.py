"""The HTML report: what a reader sees, and that nothing from a document can become markup."""

from __future__ import annotations

import base64
import hashlib
import re
import lxml.html
import pytest
from lxml import etree
from lxml.html import HtmlElement

from gapscan.reports.html import document_href, format_percent, format_size, render_html
from gapscan.reports.model import (
    DocumentEntry,
    EvidenceRef,
    FrameworkResult,
    GapReport,
    NearMiss,
    Related,
    Tag,
    Verdict,
)

HOSTILE_PATH = "hr/<script>alert(1)</script>.docx"
HOSTILE_TERM = '"><img src=x onerror=alert(1)>'
HOSTILE_REASON = "</td></tr><script>alert('reason')</script>"
URL_IN_TEXT = "https://intranet.example.com/qms"


# -- the page as lxml builds it: CSS selectors (cssselect), text_content(), attrib -----------------


def parse(html: str) -> HtmlElement:
    return lxml.html.document_fromstring(html)


def by_id(dom: HtmlElement, ident: str) -> HtmlElement | None:
    return dom.get_element_by_id(ident, None)


def attributes(dom: HtmlElement) -> list[tuple[str, str, str]]:
    """Every attribute of every element, as (tag, name, value)."""
    return [(element.tag, name, value) for element in dom.iter(etree.Element) for name, value in element.attrib.items()]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# -- the report under test ----------------------------------------------------------------------


def make_report() -> GapReport:
    iso = FrameworkResult(
        id="iso9001-2015",
        title="ISO 9001:2015",
        version="2015",
        verdicts=(
            Verdict(
                id="9.2",
                title="Internal audit",
                parent="9",
                parent_title="Performance evaluation",
                status="covered",
                reason="An audit programme and two audit reports dated 2024 were found.",
                evidence=(
                    EvidenceRef(
                        path="audits/Audit programme 2024#1.xlsx",
                        score=0.82,
                        locator="sheet Programme",
                        modified="2024-03-14",
                        terms=("audit programme", "auditor", HOSTILE_TERM),
                    ),
                    EvidenceRef(path="audits/report-03.pdf", score=0.61, locator="p. 3",
                                modified="2024-05-02T10:00:00+00:00"),
                ),
                intent="Plan and run internal audits of the QMS and keep their results.",
                evidence_kind="retain",
                typical_evidence=("Audit programme", "Audit reports with findings"),
                related=(Related("cmmi-v2-dev", "PQA 2.2", "intersect"),),
            ),
            Verdict(
                id="9.3.3",
                title="Management review outputs",
                parent="9",
                parent_title="Performance evaluation",
                status="partial",
                reason="Only minutes older than 12 months were found.",
                evidence=(EvidenceRef(path="mgmt/MR minutes 2022.docx", score=0.44,
                                      modified="2022-11-30", terms=("management review",)),),
                near_misses=(NearMiss("mgmt/agenda.md", 0.21),),
                evidence_kind="retain",
            ),
            Verdict(
                id="10.2",
                title="Nonconformity and corrective action",
                parent="10",
                parent_title="Improvement",
                status="missing",
                reason=HOSTILE_REASON,
                near_misses=(NearMiss(HOSTILE_PATH, 0.19), NearMiss("capa/old log.xlsx", 0.27)),
                typical_evidence=("CAPA log", "Root-cause analyses"),
            ),
            Verdict(
                id="8.3.1",
                title="Design and development: general",
                parent="8",
                parent_title="Operation",
                status="not_applicable",
                reason=f"Declared not applicable: no design work (see {URL_IN_TEXT}).",
            ),
        ),
    )
    cmmi = FrameworkResult(
        id="cmmi-v2-dev",
        title="CMMI V2.0 Development",
        version="2.0",
        level=3,
        verdicts=(
            Verdict(
                id="PQA 2.2",
                title="Objectively evaluate processes and work products",
                parent="PQA",
                parent_title="Process Quality Assurance",
                status="covered",
                reason="QA evaluation records dated within the last 12 months.",
                evidence=(EvidenceRef(path="javascript:alert(1).md", score=0.7,
                                      terms=("evaluation",)),),
                related=(Related("iso9001-2015", "9.2", "intersect"),),
                level=2,
            ),
            Verdict(
                id="CM 1.1",
                title="Keep work products under version control",
                parent="CM",
                parent_title="Configuration Management",
                status="covered",
                reason="A version-controlled repository with history was found.",
                evidence=(EvidenceRef(path="audits/report-03.pdf", score=0.55),),
                level=1,
            ),
            Verdict(
                id="CAR 3.1",
                title="Root-cause analysis by the defined method",
                parent="CAR",
                parent_title="Causal Analysis and Resolution",
                status="missing",
                reason="No document scored above the threshold.",
                level=3,
            ),
        ),
    )
    documents = (
        DocumentEntry(path="audits/Audit programme 2024#1.xlsx", format="xlsx", bytes=2048,
                      sha256="a" * 64, modified="2024-03-14", status="ok",
                      title="Internal audit programme",
                      tags=(Tag("iso9001-2015", "9.2", 0.82),)),
        DocumentEntry(path="audits/report-03.pdf", format="pdf", bytes=512, sha256="b" * 64,
                      modified="2024-05-02", status="ok"),
        DocumentEntry(path=HOSTILE_PATH, format="docx", bytes=0, sha256="", modified="2024-01-01",
                      status="unreadable", reason=f"Empty file {HOSTILE_TERM}"),
        DocumentEntry(path="quality/manual.pdf", format="pdf", bytes=409600, sha256="",
                      modified="2023-02-01", status="unreadable",
                      reason="Encrypted PDF: a password is needed to open it."),
        DocumentEntry(path="archive/old procedure.doc", format="doc", bytes=48128, sha256="",
                      modified="2009-05-01", status="skipped",
                      reason="Legacy .doc format is not read; save it as .docx."),
    )
    return GapReport(
        tool_version="0.1.0",
        generated_at="2024-11-05T14:03:11+00:00",
        root="/srv/share/QMS",
        frameworks=(iso, cmmi),
        documents=documents,
        warnings=("2 files were larger than the size limit.",),
    )


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(make_report())


@pytest.fixture(scope="module")
def dom(html) -> HtmlElement:
    return parse(html)


def row(dom: HtmlElement, framework: str, requirement: str) -> HtmlElement:
    node = by_id(dom, f"req-{framework}-{requirement.replace(' ', '-')}")
    assert node is not None, f"no row for {framework} {requirement}"
    return node


def block(dom: HtmlElement, framework: str, requirement: str) -> HtmlElement:
    """The requirement's row together with its detail row."""
    return row(dom, framework, requirement).getparent()


# -- what a reader sees ---------------------------------------------------------------------------


def test_header_names_root_date_version_and_document_counts(dom):
    header = dom.cssselect("header.masthead")[0]
    text = squash(header.text_content())
    assert "/srv/share/QMS" in text
    assert "2024-11-05 14:03 UTC" in text
    assert "gapscan 0.1.0" in text
    assert "5 found · 2 read · 3 not read" in text
    title = squash(dom.cssselect("title")[0].text_content())
    assert "/srv/share/QMS" in title


def test_scan_warnings_are_shown(dom):
    assert "2 files were larger than the size limit." in squash(dom.text_content())


def test_each_framework_shows_coverage_figure_and_counts(dom):
    iso = by_id(dom, "fw-iso9001-2015")
    cmmi = by_id(dom, "fw-cmmi-v2-dev")
    # ISO: 1 covered + half of 1 partial over 3 applicable; CMMI: 2 of 3
    assert "50% coverage" in squash(iso.text_content())
    assert "66.7% coverage" in squash(cmmi.text_content())
    assert squash(cmmi.cssselect("h2")[0].text_content()) == "CMMI V2.0 Development at target maturity level 3"
    assert squash(iso.cssselect("h2")[0].text_content()) == "ISO 9001:2015"
    # the donut is inline SVG with a text alternative
    svg = iso.cssselect("svg")[0]
    assert svg.attrib.get("role") == "img"
    assert "50% coverage" in svg.attrib["aria-label"]
    counts = {}
    for item in iso.cssselect("ul.counts")[0].cssselect("li"):
        label = item.cssselect("span.badge")[0]
        symbol = label.cssselect("span.sym")[0]
        assert symbol.attrib.get("aria-hidden") == "true"
        counts[squash(label.text_content()).replace(squash(symbol.text_content()), "").strip()] = squash(
            item.cssselect("strong")[0].text_content()
        )
    assert counts == {"Covered": "1", "Partial": "1", "Missing": "1", "Not applicable": "1"}


def test_overview_cards_summarise_each_framework(dom):
    overview = squash(dom.cssselect("section.overview")[0].text_content())
    assert "50% coverage" in overview
    assert "66.7% coverage" in overview
    assert "2 of 5 read" in overview
    assert "3 documents could not be read" in overview


@pytest.mark.parametrize(
    "framework, requirement, status, label",
    [
        ("iso9001-2015", "9.2", "covered", "Covered"),
        ("iso9001-2015", "9.3.3", "partial", "Partial"),
        ("iso9001-2015", "10.2", "missing", "Missing"),
        ("iso9001-2015", "8.3.1", "not_applicable", "Not applicable"),
        ("cmmi-v2-dev", "PQA 2.2", "covered", "Covered"),
        ("cmmi-v2-dev", "CM 1.1", "covered", "Covered"),
        ("cmmi-v2-dev", "CAR 3.1", "missing", "Missing"),
    ],
)
def test_each_requirement_row_shows_its_status_as_text(dom, framework, requirement, status, label):
    tr = row(dom, framework, requirement)
    assert tr.attrib["data-status"] == status
    badge = tr.cssselect("span.badge")[0]
    assert f"badge-{status}" in badge.classes
    assert label in squash(badge.text_content())  # never colour alone
    cells = tr.cssselect("td")
    assert squash(cells[0].text_content()) == requirement


def test_rows_are_grouped_by_section_in_numeric_order(dom):
    iso = by_id(dom, "fw-iso9001-2015")
    heads = [squash(t.text_content()) for t in iso.cssselect("tbody.group-head")]
    assert [h.split(" ")[0] for h in heads] == ["8", "9", "10"]
    assert heads[1].startswith("9 Performance evaluation")
    assert "1 covered · 1 partial" in heads[1]


def test_clause_order_is_numeric_and_subclauses_stay_in_their_section():
    """8.1, 8.6 and 8.7 sit with 8.2.x under clause 8, in number order (8.10 after 8.7)."""
    def verdict(rid, parent, parent_title):
        return Verdict(rid, f"Clause {rid}", parent, "missing", "No document is evidence for this requirement.",
                       parent_title=parent_title, section="8", section_title="Operation")

    fw = FrameworkResult("iso9001-2015", "ISO 9001:2015", "2015", (
        verdict("8.7", "8", "Operation"), verdict("8.10", "8", "Operation"), verdict("8.1", "8", "Operation"),
        verdict("8.2.1", "8.2", "Requirements for products and services"), verdict("8.6", "8", "Operation"),
    ))
    page = parse(render_html(GapReport("0.1.0", "2024-01-01", "/r", (fw,), ())))
    section = by_id(page, "fw-iso9001-2015")
    ids = [squash(r.cssselect("td")[0].text_content()) for r in section.cssselect("tr.req")]
    assert ids == ["8.1", "8.2.1", "8.6", "8.7", "8.10"]
    heads = [squash(h.text_content()).split(" ")[:2] for h in section.cssselect("tbody.group-head")]
    assert heads == [["8", "Operation"]]
    context = row(page, "iso9001-2015", "8.2.1").cssselect("span.ctx")
    assert squash(context[0].text_content()) == "8.2 Requirements for products and services"
    tiles = [squash(a.text_content()) for a in by_id(page, "map-iso9001-2015").cssselect("a.tile")]
    assert [t.lstrip("✕ ") for t in tiles] == ["8.1", "8.2.1", "8.6", "8.7", "8.10"]


def test_evidence_shows_link_score_locator_and_date(dom):
    tr = row(dom, "iso9001-2015", "9.2")
    evidence = tr.cssselect("td.evidence")[0]
    links = evidence.cssselect("a")
    assert [squash(a.text_content()) for a in links] == ["audits/Audit programme 2024#1.xlsx",
                                                  "audits/report-03.pdf"]
    assert links[0].attrib["href"] == "audits/Audit%20programme%202024%231.xlsx"
    text = squash(evidence.text_content())
    assert "0.82" in text and "sheet Programme" in text and "2024-03-14" in text
    assert "p. 3" in text and "2024-05-02" in text


def test_link_base_is_prepended_and_segments_are_encoded():
    page = parse(render_html(make_report(), link_base="../QMS/"))
    hrefs = {a.attrib["href"] for a in page.cssselect("a.path")}
    assert "../QMS/audits/Audit%20programme%202024%231.xlsx" in hrefs
    assert "../QMS/archive/old%20procedure.doc" in hrefs
    assert all(h.startswith("../QMS/") for h in hrefs)


def test_document_href_cannot_become_a_scheme_or_host():
    assert document_href("javascript:alert(1).md") == "javascript%3Aalert%281%29.md"
    assert document_href("//evil.example/x.pdf") == "evil.example/x.pdf"
    assert document_href("a/./b c.pdf", "../d/") == "../d/a/b%20c.pdf"


def test_gap_details_list_near_misses_typical_evidence_and_terms(dom):
    gap = block(dom, "iso9001-2015", "10.2")
    assert "No evidence found" in squash(row(dom, "iso9001-2015", "10.2").text_content())
    details = gap.cssselect("details.more")[0]
    text = squash(details.text_content())
    assert "2 near misses" in squash(details.cssselect("summary")[0].text_content())
    assert "capa/old log.xlsx" in text and "0.27" in text
    assert HOSTILE_PATH in text and "0.19" in text
    assert "CAPA log" in text and "Root-cause analyses" in text
    near_links = {a.attrib["href"] for a in details.cssselect("a.path")}
    assert "capa/old%20log.xlsx" in near_links

    covered = block(dom, "iso9001-2015", "9.2").cssselect("details.more")[0]
    terms = [squash(t.text_content()) for t in covered.cssselect("span.term")]
    assert terms == ["audit programme", "auditor", HOSTILE_TERM]
    assert "Plan and run internal audits" in squash(covered.text_content())


def test_related_requirements_link_across_frameworks(dom):
    details = block(dom, "iso9001-2015", "9.2").cssselect("details.more")[0]
    links = [a for a in details.cssselect("a") if a.attrib["href"].startswith("#")]
    assert [a.attrib["href"] for a in links] == ["#req-cmmi-v2-dev-PQA-2.2"]
    assert squash(links[0].text_content()) == "CMMI PQA 2.2"
    assert by_id(dom, "req-cmmi-v2-dev-PQA-2.2") is not None
    assert "(intersect)" in squash(details.text_content())
    back = block(dom, "cmmi-v2-dev", "PQA 2.2").cssselect("details.more")[0]
    assert "#req-iso9001-2015-9.2" in {a.attrib["href"] for a in back.cssselect("a")}


def test_unreadable_and_skipped_documents_are_listed_with_reasons(dom):
    box = by_id(dom, "unreadable")
    assert box is not None
    text = squash(box.text_content())
    assert "3 documents were not read" in text
    for path, reason in [
        ("quality/manual.pdf", "Encrypted PDF: a password is needed to open it."),
        ("archive/old procedure.doc", "Legacy .doc format is not read; save it as .docx."),
        (HOSTILE_PATH, f"Empty file {HOSTILE_TERM}"),
    ]:
        assert path in text and reason in text
    assert "Unreadable" in text and "Skipped" in text
    assert "audits/report-03.pdf" not in text


def test_full_document_list_is_collapsed_and_complete(dom):
    doclist = dom.cssselect("details.doclist")[0]
    assert "open" not in doclist.attrib
    rows = doclist.cssselect("tbody")[0].cssselect("tr")
    assert len(rows) == 5
    programme = next(r for r in rows if "Audit programme" in r.text_content())
    text = squash(programme.text_content())
    assert "xlsx" in text and "2.0 KB" in text and "Read" in text
    assert "Internal audit programme" in text
    tag = programme.cssselect("a.tag")[0]
    assert squash(tag.text_content()) == "ISO 9.2" and tag.attrib["href"] == "#req-iso9001-2015-9.2"


def test_contents_link_to_every_part_of_the_page(dom):
    toc = by_id(dom, "contents")
    targets = [a.attrib["href"] for a in toc.cssselect("a")]
    assert targets == ["#summary", "#map-iso9001-2015", "#map-cmmi-v2-dev", "#actions", "#fw-iso9001-2015",
                       "#fw-cmmi-v2-dev", "#documents", "#legend"]
    assert all(by_id(dom, t[1:]) is not None for t in targets)
    labels = [squash(a.text_content()) for a in toc.cssselect("a")]
    assert labels[:4] == ["Summary", "ISO clause map", "CMMI practice areas by level", "Action plan 3"]


def test_summary_cards_count_every_status(dom):
    cards = {c.attrib["data-framework"]: c for c in by_id(dom, "summary").cssselect("div.fw-card")}
    counts = {squash(li.text_content()) for li in cards["iso9001-2015"].cssselect("li")}
    assert counts == {"1 covered", "1 partial", "1 missing", "1 not applicable"}
    assert "since the baseline" not in squash(cards["iso9001-2015"].text_content())  # no baseline given


def test_clause_map_and_practice_area_matrix_link_every_tile_to_its_row(dom):
    iso = by_id(dom, "map-iso9001-2015")
    lines = [squash(r.cssselect("th")[0].text_content()) for r in iso.cssselect("tbody")[0].cssselect("tr")]
    assert lines == ["8 Operation", "9 Performance evaluation", "10 Improvement"]
    tiles = iso.cssselect("a.tile")
    assert [t.attrib["href"] for t in tiles] == ["#req-iso9001-2015-8.3.1", "#req-iso9001-2015-9.2",
                                                "#req-iso9001-2015-9.3.3", "#req-iso9001-2015-10.2"]
    assert [sorted(t.classes) for t in tiles][1] == ["t-covered", "tile"]
    assert tiles[3].attrib["aria-label"] == "10.2 Nonconformity and corrective action: Missing"  # not colour alone
    assert all(by_id(dom, t.attrib["href"][1:]) is not None for t in tiles)

    cmmi = by_id(dom, "map-cmmi-v2-dev")
    assert [squash(th.text_content()) for th in cmmi.cssselect("thead")[0].cssselect("th")] == [
        "Practice area", "Level 1", "Level 2", "Level 3"]
    rows = {squash(r.cssselect("th")[0].text_content()).split(" ")[0]:
            [squash(td.text_content()) for td in r.cssselect("td")]
            for r in cmmi.cssselect("tbody")[0].cssselect("tr")}
    assert rows == {"CAR": ["", "", "✕3.1"], "CM": ["✓1.1", "", ""], "PQA": ["", "✓2.2", ""]}


def test_action_plan_ranks_shared_evidence_first_and_links_rows(dom):
    plan = by_id(dom, "actions")
    items = plan.cssselect("li.action")
    heads = [squash(i.cssselect("div.a-head")[0].text_content()) for i in items]
    assert heads[0].startswith("1 ISO 9.3.3 Management review outputs")
    assert heads[1].startswith("2 ISO 10.2 Nonconformity and corrective action")
    first = squash(items[0].text_content())
    assert "An auditor expects Records must show that the activity is actually done." in first
    assert "Start from mgmt/MR minutes 2022.docx (closest match, score 0.44)" in first
    links = [a.attrib["href"] for a in items[1].cssselect("a")]
    assert links[0] == "#req-iso9001-2015-10.2"
    assert "capa/old%20log.xlsx" in links  # the nearest document, to start from


def test_gate_panel_shows_verdict_changes_and_waivers():
    from datetime import date

    from gapscan.reports.gate import Publication, Waiver, compare, parse_baseline, review_waivers
    from gapscan.reports.json_report import report_dict

    report = make_report()
    before = report_dict(report)
    for framework in before["frameworks"]:
        for item in framework["requirements"]:
            if item["id"] in ("10.2", "CAR 3.1"):
                item["status"] = "covered"
    before["frameworks"][0]["coverage"] = 0.4
    waivers = review_waivers((Waiver("cmmi-v2-dev", "CAR", "RCA method due in Q3", date(2030, 1, 1)),
                              Waiver("iso9001-2015", "7.1.5", "Old", date(2020, 1, 1))), report, date(2024, 11, 5))
    publication = Publication(diff=compare(parse_baseline(before), report), waivers=waivers, fail_on="new-gaps")
    page = parse(render_html(report, publication=publication))
    gate = by_id(page, "gate")
    text = squash(gate.text_content())
    assert text.startswith("CI gate: failed")
    assert "Gates: --fail-on new-gaps." in text
    assert "1 new gap(s) since the baseline (--fail-on new-gaps): iso9001-2015 10.2 (covered → missing)" in text
    assert "2 new gaps, 0 resolved" in text
    new_gaps = gate.cssselect("table.changes")[0]
    rows = [squash(r.text_content()) for r in new_gaps.cssselect("tbody")[0].cssselect("tr")]
    assert rows == [
        "ISO 10.2 Nonconformity and corrective action ✓ Covered ✕ Missing",
        "CMMI CAR 3.1 Root-cause analysis by the defined method ✓ Covered ✕ Missing waived until 2030-01-01",
    ]
    waiver_text = squash(gate.cssselect("ul.waivers")[0].text_content())
    assert "Active CMMI CAR, until 2030-01-01: RCA method due in Q3 (waives CAR 3.1)" in waiver_text
    assert "Expired ISO 7.1.5, on 2020-01-01; it no longer applies: Old" in waiver_text
    card = squash(page.cssselect("div.gate-card")[0].text_content())
    assert card.startswith("CI gate ✕ Failed")
    iso_card = next(c for c in page.cssselect("div.fw-card") if c.attrib["data-framework"] == "iso9001-2015")
    assert "+10 pts" in squash(iso_card.text_content()) and "1 new gap, 0 resolved" in squash(iso_card.text_content())
    assert by_id(page, "contents").cssselect("a")[1].attrib["href"] == "#gate"


def test_evidence_column_agrees_with_the_verdict():
    weak = Verdict("9.1.3", "Analysis and evaluation", "9.1", "partial",
                   "Only passing mentions: 01-policy/quality-manual.docx matches (0.50).",
                   near_misses=(NearMiss("01-policy/quality-manual.docx", 0.5),), shortfall="weak")
    missing = Verdict("7.1.5", "Monitoring and measuring resources", "7.1", "missing",
                      "No document is evidence for this requirement.", near_misses=(NearMiss("tools.xlsx", 0.21),))
    many = Verdict("7.5.3", "Control of documented information", "7.5", "covered", "Evidenced by a.md.",
                   evidence=tuple(EvidenceRef(f"doc-{n}.md", 0.9 - n / 10) for n in range(5)))
    fw = FrameworkResult("iso9001-2015", "ISO 9001:2015", "2015", (weak, missing, many))
    page = parse(render_html(GapReport("0.1.0", "2024-01-01", "/r", (fw,), ())))
    weak_cell = squash(row(page, "iso9001-2015", "9.1.3").cssselect("td.evidence")[0].text_content())
    assert weak_cell == "Weak evidence only 01-policy/quality-manual.docx score 0.50"
    assert "No evidence found" not in weak_cell
    assert squash(row(page, "iso9001-2015", "7.1.5").cssselect("td.evidence")[0].text_content()) == \
        "No evidence found Closest: tools.xlsx (0.21)"
    listed = row(page, "iso9001-2015", "7.5.3").cssselect("td.evidence")[0]
    assert [squash(a.text_content()) for a in listed.cssselect("a")] == ["doc-0.md", "doc-1.md", "doc-2.md"]
    assert "and 2 more in the details" in squash(listed.text_content())
    details = block(page, "iso9001-2015", "7.5.3").cssselect("details.more")[0]
    assert [squash(a.text_content()) for a in details.cssselect("a.path")] == ["doc-3.md", "doc-4.md"]


def test_legend_explains_statuses_and_requirement_kinds(dom):
    legend = by_id(dom, "legend")
    kinds = legend.cssselect("dl.kinds")[1]
    terms = [squash(dt.text_content()) for dt in kinds.cssselect("dt")]
    assert terms == ["maintain Document required", "retain Records required", "both Document and records required",
                     "none No document or record required"]
    meanings = [squash(dd.text_content()) for dd in kinds.cssselect("dd")]
    assert meanings[1] == "Records must show that the activity is actually done."
    assert "Counts half" in squash(legend.text_content())


def test_framework_filter_buttons_name_each_framework(dom):
    buttons = [(b.attrib["data-framework-filter"], squash(b.text_content()))
               for b in by_id(dom, "toolbar").cssselect("button") if "data-framework-filter" in b.attrib]
    assert buttons == [("all", "All frameworks"), ("iso9001-2015", "ISO"), ("cmmi-v2-dev", "CMMI")]
    assert {s.attrib.get("data-framework") for s in dom.cssselect("section.framework")} == {
        "iso9001-2015", "cmmi-v2-dev"}


def test_page_is_readable_without_javascript(dom):
    # controls only appear when the script runs; content sits in native <details>
    toolbar = by_id(dom, "toolbar")
    assert "hidden" in toolbar.attrib
    blocks = dom.cssselect("tbody.req-block")
    assert len(blocks) == 7
    assert len(dom.cssselect("details.more")) >= 4
    assert all(d.cssselect("summary") for d in dom.cssselect("details"))


def test_print_stylesheet_expands_details_and_hides_controls(html):
    print_css = html[html.index("@media print"):]
    assert ".toolbar" in print_css
    assert "details::details-content" in print_css
    assert "break-inside: avoid" in print_css


# -- safety ---------------------------------------------------------------------------------------


def test_document_data_cannot_inject_markup(html, dom):
    scripts = dom.cssselect("script")
    assert len(scripts) == 1 and "src" not in scripts[0].attrib
    assert "use strict" in scripts[0].text_content()
    assert not dom.cssselect("img")
    assert "<img" not in html
    assert "<script>alert" not in html
    for tag, name, _ in attributes(dom):
        assert not name.lower().startswith("on"), (tag, name)
    # ...and the hostile strings are still there for the reader, as text
    text = dom.text_content()
    assert HOSTILE_PATH in text
    assert HOSTILE_TERM in text
    assert HOSTILE_REASON in text


def test_page_loads_nothing_from_the_network(html, dom):
    for tag, name, raw in attributes(dom):
        value = (raw or "").strip().lower()
        assert "http://" not in value and "https://" not in value, (tag, name, value)
        if name in ("href", "src", "action", "srcset", "poster", "xlink:href"):
            assert not value.startswith("//"), (tag, name, value)
        assert name != "src", tag
    assert not [n for n in dom.iter() if n.tag in ("link", "iframe", "object", "embed",
                                                         "img", "audio", "video", "form")]
    style = "".join(n.text_content() for n in dom.cssselect("style"))
    assert "url(" not in style and "@import" not in style
    # a URL written in a document only shows up as text
    assert URL_IN_TEXT in dom.text_content()
    assert html.count("https://") == 1 and "http://" not in html


def test_content_security_policy_allows_only_the_page_script(dom):
    meta = next(m for m in dom.cssselect("meta")
                if (m.attrib.get("http-equiv") or "").lower() == "content-security-policy")
    policy = meta.attrib["content"]
    assert "default-src 'none'" in policy
    script = dom.cssselect("script")[0].text_content()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy


# -- templates --------------------------------------------------------------------------------------


def test_template_directory_overrides_the_bundled_template(tmp_path):
    (tmp_path / "report.html.j2").write_text(
        "<p>Acme QA: {{ report.root }} {{ frameworks|length }}</p>", encoding="utf-8"
    )
    report = make_report()
    out = render_html(report, template_dir=tmp_path)
    assert out == "<p>Acme QA: /srv/share/QMS 2</p>"
    # autoescaping applies to overrides too
    hostile = GapReport("0.1.0", "2024-01-01", "<b>root</b>", (), ())
    assert "&lt;b&gt;root&lt;/b&gt;" in render_html(hostile, template_dir=tmp_path)


def test_override_can_extend_the_bundled_template(tmp_path):
    (tmp_path / "report.html.j2").write_text(
        '{% extends "default:report.html.j2" %}'
        '{% block footer %}<footer class="foot">Acme Quality Office</footer>{% endblock %}',
        encoding="utf-8",
    )
    page = parse(render_html(make_report(), template_dir=tmp_path))
    assert "Acme Quality Office" in page.text_content()
    assert by_id(page, "req-iso9001-2015-9.2") is not None


def test_a_directory_without_the_template_falls_back_to_the_bundled_one(tmp_path):
    assert render_html(make_report(), template_dir=tmp_path) == render_html(make_report())


def test_empty_report_renders():
    page = parse(render_html(GapReport("0.1.0", "2024-01-01T00:00:00Z", "/empty", (), ())))
    text = squash(page.text_content())
    assert "No documents were found under the scanned root." in text
    assert by_id(page, "toolbar") is None


def test_framework_with_everything_not_applicable():
    fw = FrameworkResult("x", "X", "1", (Verdict("1", "One", "1", "not_applicable", "N/A."),))
    page = parse(render_html(GapReport("0.1.0", "2024-01-01", "/r", (fw,), ())))
    assert "100%" in squash(by_id(page, "fw-x").text_content())


def test_formatters():
    assert format_percent(0.625) == "62.5%"
    assert format_percent(1.0) == "100%"
    assert format_percent(0.8333) == "83.3%"
    assert format_size(0) == "0 B"
    assert format_size(2048) == "2.0 KB"
    assert format_size(5 * 1024 * 1024) == "5.0 MB"
