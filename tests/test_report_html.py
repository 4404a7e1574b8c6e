"""The HTML report: what a reader sees, and that nothing from a document can become markup."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

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


# -- a small DOM so tests can ask about elements, attributes and visible text ------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: Node | None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.attr_list = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child.text() if isinstance(child, Node) else child)
        return "".join(parts)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter()
                if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())]

    def by_id(self, ident: str) -> Node | None:
        return next((n for n in self.iter() if n.attrs.get("id") == ident), None)


class DomBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.current = self.root
        self.all_attrs: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.all_attrs.extend((tag, name, value) for name, value in attrs)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.all_attrs.extend((tag, name, value) for name, value in attrs)

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> DomBuilder:
    builder = DomBuilder()
    builder.feed(html)
    builder.close()
    return builder


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
def dom(html) -> DomBuilder:
    return parse(html)


def row(dom: DomBuilder, framework: str, requirement: str) -> Node:
    node = dom.root.by_id(f"req-{framework}-{requirement.replace(' ', '-')}")
    assert node is not None, f"no row for {framework} {requirement}"
    return node


def block(dom: DomBuilder, framework: str, requirement: str) -> Node:
    """The requirement's row together with its detail row."""
    return row(dom, framework, requirement).parent


# -- what a reader sees ---------------------------------------------------------------------------


def test_header_names_root_date_version_and_document_counts(dom):
    header = dom.root.find_all("header", "masthead")[0]
    text = squash(header.text())
    assert "/srv/share/QMS" in text
    assert "2024-11-05 14:03 UTC" in text
    assert "gapscan 0.1.0" in text
    assert "5 found · 2 read · 3 not read" in text
    title = squash(dom.root.find_all("title")[0].text())
    assert "/srv/share/QMS" in title


def test_scan_warnings_are_shown(dom):
    assert "2 files were larger than the size limit." in squash(dom.root.text())


def test_each_framework_shows_coverage_figure_and_counts(dom):
    iso = dom.root.by_id("fw-iso9001-2015")
    cmmi = dom.root.by_id("fw-cmmi-v2-dev")
    # ISO: 1 covered + half of 1 partial over 3 applicable; CMMI: 2 of 3
    assert "50% coverage" in squash(iso.text())
    assert "66.7% coverage" in squash(cmmi.text())
    assert squash(cmmi.find_all("h2")[0].text()) == "CMMI V2.0 Development at target maturity level 3"
    assert squash(iso.find_all("h2")[0].text()) == "ISO 9001:2015"
    # the donut is inline SVG with a text alternative
    svg = iso.find_all("svg")[0]
    assert svg.attrs.get("role") == "img"
    assert "50% coverage" in svg.attrs["aria-label"]
    counts = {}
    for item in iso.find_all("ul", "counts")[0].find_all("li"):
        label = item.find_all("span", "badge")[0]
        symbol = label.find_all("span", "sym")[0]
        assert symbol.attrs.get("aria-hidden") == "true"
        counts[squash(label.text()).replace(squash(symbol.text()), "").strip()] = squash(
            item.find_all("strong")[0].text()
        )
    assert counts == {"Covered": "1", "Partial": "1", "Missing": "1", "Not applicable": "1"}


def test_overview_cards_summarise_each_framework(dom):
    overview = squash(dom.root.find_all("section", "overview")[0].text())
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
    assert tr.attrs["data-status"] == status
    badge = tr.find_all("span", "badge")[0]
    assert f"badge-{status}" in badge.classes()
    assert label in squash(badge.text())  # never colour alone
    cells = tr.find_all("td")
    assert squash(cells[0].text()) == requirement


def test_rows_are_grouped_by_section_in_numeric_order(dom):
    iso = dom.root.by_id("fw-iso9001-2015")
    heads = [squash(t.text()) for t in iso.find_all("tbody", "group-head")]
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
    section = page.root.by_id("fw-iso9001-2015")
    ids = [squash(r.find_all("td")[0].text()) for r in section.find_all("tr", "req")]
    assert ids == ["8.1", "8.2.1", "8.6", "8.7", "8.10"]
    assert [squash(h.text()).split(" ")[:2] for h in section.find_all("tbody", "group-head")] == [["8", "Operation"]]
    context = row(page, "iso9001-2015", "8.2.1").find_all("span", "ctx")
    assert squash(context[0].text()) == "8.2 Requirements for products and services"
    tiles = [squash(a.text()) for a in page.root.by_id("map-iso9001-2015").find_all("a", "tile")]
    assert [t.lstrip("✕ ") for t in tiles] == ["8.1", "8.2.1", "8.6", "8.7", "8.10"]


def test_evidence_shows_link_score_locator_and_date(dom):
    tr = row(dom, "iso9001-2015", "9.2")
    evidence = tr.find_all("td", "evidence")[0]
    links = evidence.find_all("a")
    assert [squash(a.text()) for a in links] == ["audits/Audit programme 2024#1.xlsx",
                                                  "audits/report-03.pdf"]
    assert links[0].attrs["href"] == "audits/Audit%20programme%202024%231.xlsx"
    text = squash(evidence.text())
    assert "0.82" in text and "sheet Programme" in text and "2024-03-14" in text
    assert "p. 3" in text and "2024-05-02" in text


def test_link_base_is_prepended_and_segments_are_encoded():
    page = parse(render_html(make_report(), link_base="../QMS/"))
    hrefs = {a.attrs["href"] for a in page.root.find_all("a", "path")}
    assert "../QMS/audits/Audit%20programme%202024%231.xlsx" in hrefs
    assert "../QMS/archive/old%20procedure.doc" in hrefs
    assert all(h.startswith("../QMS/") for h in hrefs)


def test_document_href_cannot_become_a_scheme_or_host():
    assert document_href("javascript:alert(1).md") == "javascript%3Aalert%281%29.md"
    assert document_href("//evil.example/x.pdf") == "evil.example/x.pdf"
    assert document_href("a/./b c.pdf", "../d/") == "../d/a/b%20c.pdf"


def test_gap_details_list_near_misses_typical_evidence_and_terms(dom):
    gap = block(dom, "iso9001-2015", "10.2")
    assert "No evidence found" in squash(row(dom, "iso9001-2015", "10.2").text())
    details = gap.find_all("details", "more")[0]
    text = squash(details.text())
    assert "2 near misses" in squash(details.find_all("summary")[0].text())
    assert "capa/old log.xlsx" in text and "0.27" in text
    assert HOSTILE_PATH in text and "0.19" in text
    assert "CAPA log" in text and "Root-cause analyses" in text
    near_links = {a.attrs["href"] for a in details.find_all("a", "path")}
    assert "capa/old%20log.xlsx" in near_links

    covered = block(dom, "iso9001-2015", "9.2").find_all("details", "more")[0]
    terms = [squash(t.text()) for t in covered.find_all("span", "term")]
    assert terms == ["audit programme", "auditor", HOSTILE_TERM]
    assert "Plan and run internal audits" in squash(covered.text())


def test_related_requirements_link_across_frameworks(dom):
    details = block(dom, "iso9001-2015", "9.2").find_all("details", "more")[0]
    links = [a for a in details.find_all("a") if a.attrs["href"].startswith("#")]
    assert [a.attrs["href"] for a in links] == ["#req-cmmi-v2-dev-PQA-2.2"]
    assert squash(links[0].text()) == "CMMI PQA 2.2"
    assert dom.root.by_id("req-cmmi-v2-dev-PQA-2.2") is not None
    assert "(intersect)" in squash(details.text())
    back = block(dom, "cmmi-v2-dev", "PQA 2.2").find_all("details", "more")[0]
    assert "#req-iso9001-2015-9.2" in {a.attrs["href"] for a in back.find_all("a")}


def test_unreadable_and_skipped_documents_are_listed_with_reasons(dom):
    box = dom.root.by_id("unreadable")
    assert box is not None
    text = squash(box.text())
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
    doclist = dom.root.find_all("details", "doclist")[0]
    assert "open" not in doclist.attrs
    rows = doclist.find_all("tbody")[0].find_all("tr")
    assert len(rows) == 5
    programme = next(r for r in rows if "Audit programme" in r.text())
    text = squash(programme.text())
    assert "xlsx" in text and "2.0 KB" in text and "Read" in text
    assert "Internal audit programme" in text
    tag = programme.find_all("a", "tag")[0]
    assert squash(tag.text()) == "ISO 9.2" and tag.attrs["href"] == "#req-iso9001-2015-9.2"


def test_contents_link_to_every_part_of_the_page(dom):
    toc = dom.root.by_id("contents")
    targets = [a.attrs["href"] for a in toc.find_all("a")]
    assert targets == ["#summary", "#map-iso9001-2015", "#map-cmmi-v2-dev", "#actions", "#fw-iso9001-2015",
                       "#fw-cmmi-v2-dev", "#documents", "#legend"]
    assert all(dom.root.by_id(t[1:]) is not None for t in targets)
    labels = [squash(a.text()) for a in toc.find_all("a")]
    assert labels[:4] == ["Summary", "ISO clause map", "CMMI practice areas by level", "Action plan 3"]


def test_summary_cards_count_every_status(dom):
    cards = {c.attrs["data-framework"]: c for c in dom.root.by_id("summary").find_all("div", "fw-card")}
    counts = {squash(li.text()) for li in cards["iso9001-2015"].find_all("li")}
    assert counts == {"1 covered", "1 partial", "1 missing", "1 not applicable"}
    assert "since the baseline" not in squash(cards["iso9001-2015"].text())  # no baseline given


def test_clause_map_and_practice_area_matrix_link_every_tile_to_its_row(dom):
    iso = dom.root.by_id("map-iso9001-2015")
    lines = [squash(r.find_all("th")[0].text()) for r in iso.find_all("tbody")[0].find_all("tr")]
    assert lines == ["8 Operation", "9 Performance evaluation", "10 Improvement"]
    tiles = iso.find_all("a", "tile")
    assert [t.attrs["href"] for t in tiles] == ["#req-iso9001-2015-8.3.1", "#req-iso9001-2015-9.2",
                                                "#req-iso9001-2015-9.3.3", "#req-iso9001-2015-10.2"]
    assert [sorted(t.classes()) for t in tiles][1] == ["t-covered", "tile"]
    assert tiles[3].attrs["aria-label"] == "10.2 Nonconformity and corrective action: Missing"  # not colour alone
    assert all(dom.root.by_id(t.attrs["href"][1:]) is not None for t in tiles)

    cmmi = dom.root.by_id("map-cmmi-v2-dev")
    assert [squash(th.text()) for th in cmmi.find_all("thead")[0].find_all("th")] == ["Practice area", "Level 1",
                                                                                      "Level 2", "Level 3"]
    rows = {squash(r.find_all("th")[0].text()).split(" ")[0]: [squash(td.text()) for td in r.find_all("td")]
            for r in cmmi.find_all("tbody")[0].find_all("tr")}
    assert rows == {"CAR": ["", "", "✕3.1"], "CM": ["✓1.1", "", ""], "PQA": ["", "✓2.2", ""]}


def test_action_plan_ranks_shared_evidence_first_and_links_rows(dom):
    plan = dom.root.by_id("actions")
    items = plan.find_all("li", "action")
    heads = [squash(i.find_all("div", "a-head")[0].text()) for i in items]
    assert heads[0].startswith("1 ISO 9.3.3 Management review outputs")
    assert heads[1].startswith("2 ISO 10.2 Nonconformity and corrective action")
    first = squash(items[0].text())
    assert "An auditor expects Records must show that the activity is actually done." in first
    assert "Start from mgmt/MR minutes 2022.docx (closest match, score 0.44)" in first
    links = [a.attrs["href"] for a in items[1].find_all("a")]
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
    gate = page.root.by_id("gate")
    text = squash(gate.text())
    assert text.startswith("CI gate: failed")
    assert "Gates: --fail-on new-gaps." in text
    assert "1 new gap(s) since the baseline (--fail-on new-gaps): iso9001-2015 10.2 (covered → missing)" in text
    assert "2 new gaps, 0 resolved" in text
    new_gaps = gate.find_all("table", "changes")[0]
    rows = [squash(r.text()) for r in new_gaps.find_all("tbody")[0].find_all("tr")]
    assert rows == ["ISO 10.2 Nonconformity and corrective action ✓ Covered ✕ Missing",
                    "CMMI CAR 3.1 Root-cause analysis by the defined method ✓ Covered ✕ Missing waived until 2030-01-01"]
    waiver_text = squash(gate.find_all("ul", "waivers")[0].text())
    assert "Active CMMI CAR, until 2030-01-01: RCA method due in Q3 (waives CAR 3.1)" in waiver_text
    assert "Expired ISO 7.1.5, on 2020-01-01; it no longer applies: Old" in waiver_text
    card = squash(page.root.find_all("div", "gate-card")[0].text())
    assert card.startswith("CI gate ✕ Failed")
    iso_card = next(c for c in page.root.find_all("div", "fw-card") if c.attrs["data-framework"] == "iso9001-2015")
    assert "+10 pts" in squash(iso_card.text()) and "1 new gap, 0 resolved" in squash(iso_card.text())
    assert page.root.by_id("contents").find_all("a")[1].attrs["href"] == "#gate"


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
    weak_cell = squash(row(page, "iso9001-2015", "9.1.3").find_all("td", "evidence")[0].text())
    assert weak_cell == "Weak evidence only 01-policy/quality-manual.docx score 0.50"
    assert "No evidence found" not in weak_cell
    assert squash(row(page, "iso9001-2015", "7.1.5").find_all("td", "evidence")[0].text()) == \
        "No evidence found Closest: tools.xlsx (0.21)"
    listed = row(page, "iso9001-2015", "7.5.3").find_all("td", "evidence")[0]
    assert [squash(a.text()) for a in listed.find_all("a")] == ["doc-0.md", "doc-1.md", "doc-2.md"]
    assert "and 2 more in the details" in squash(listed.text())
    details = block(page, "iso9001-2015", "7.5.3").find_all("details", "more")[0]
    assert [squash(a.text()) for a in details.find_all("a", "path")] == ["doc-3.md", "doc-4.md"]


def test_legend_explains_statuses_and_requirement_kinds(dom):
    legend = dom.root.by_id("legend")
    kinds = legend.find_all("dl", "kinds")[1]
    terms = [squash(dt.text()) for dt in kinds.find_all("dt")]
    assert terms == ["maintain Document required", "retain Records required", "both Document and records required",
                     "none No document or record required"]
    meanings = [squash(dd.text()) for dd in kinds.find_all("dd")]
    assert meanings[1] == "Records must show that the activity is actually done."
    assert "Counts half" in squash(legend.text())


def test_framework_filter_buttons_name_each_framework(dom):
    buttons = [(b.attrs["data-framework-filter"], squash(b.text()))
               for b in dom.root.by_id("toolbar").find_all("button") if "data-framework-filter" in b.attrs]
    assert buttons == [("all", "All frameworks"), ("iso9001-2015", "ISO"), ("cmmi-v2-dev", "CMMI")]
    assert {s.attrs.get("data-framework") for s in dom.root.find_all("section", "framework")} == {
        "iso9001-2015", "cmmi-v2-dev"}


def test_page_is_readable_without_javascript(dom):
    # controls only appear when the script runs; content sits in native <details>
    toolbar = dom.root.by_id("toolbar")
    assert "hidden" in toolbar.attrs
    blocks = dom.root.find_all("tbody", "req-block")
    assert len(blocks) == 7
    assert len(dom.root.find_all("details", "more")) >= 4
    assert all(d.find_all("summary") for d in dom.root.find_all("details"))


def test_print_stylesheet_expands_details_and_hides_controls(html):
    print_css = html[html.index("@media print"):]
    assert ".toolbar" in print_css
    assert "details::details-content" in print_css
    assert "break-inside: avoid" in print_css


# -- safety ---------------------------------------------------------------------------------------


def test_document_data_cannot_inject_markup(html, dom):
    scripts = dom.root.find_all("script")
    assert len(scripts) == 1 and "src" not in scripts[0].attrs
    assert "use strict" in scripts[0].text()
    assert not dom.root.find_all("img")
    assert "<img" not in html
    assert "<script>alert" not in html
    for tag, name, _ in dom.all_attrs:
        assert not name.lower().startswith("on"), (tag, name)
    # ...and the hostile strings are still there for the reader, as text
    text = dom.root.text()
    assert HOSTILE_PATH in text
    assert HOSTILE_TERM in text
    assert HOSTILE_REASON in text


def test_page_loads_nothing_from_the_network(html, dom):
    for tag, name, value in dom.all_attrs:
        value = (value or "").strip().lower()
        assert "http://" not in value and "https://" not in value, (tag, name, value)
        if name in ("href", "src", "action", "srcset", "poster", "xlink:href"):
            assert not value.startswith("//"), (tag, name, value)
        assert name != "src", tag
    assert not [n for n in dom.root.iter() if n.tag in ("link", "iframe", "object", "embed",
                                                         "img", "audio", "video", "form")]
    style = "".join(n.text() for n in dom.root.find_all("style"))
    assert "url(" not in style and "@import" not in style
    # a URL written in a document only shows up as text
    assert URL_IN_TEXT in dom.root.text()
    assert html.count("https://") == 1 and "http://" not in html


def test_content_security_policy_allows_only_the_page_script(dom):
    meta = next(m for m in dom.root.find_all("meta")
                if (m.attrs.get("http-equiv") or "").lower() == "content-security-policy")
    policy = meta.attrs["content"]
    assert "default-src 'none'" in policy
    script = dom.root.find_all("script")[0].text()
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
    assert "Acme Quality Office" in page.root.text()
    assert page.root.by_id("req-iso9001-2015-9.2") is not None


def test_a_directory_without_the_template_falls_back_to_the_bundled_one(tmp_path):
    assert render_html(make_report(), template_dir=tmp_path) == render_html(make_report())


def test_empty_report_renders():
    page = parse(render_html(GapReport("0.1.0", "2024-01-01T00:00:00Z", "/empty", (), ())))
    text = squash(page.root.text())
    assert "No documents were found under the scanned root." in text
    assert page.root.by_id("toolbar") is None


def test_framework_with_everything_not_applicable():
    fw = FrameworkResult("x", "X", "1", (Verdict("1", "One", "1", "not_applicable", "N/A."),))
    page = parse(render_html(GapReport("0.1.0", "2024-01-01", "/r", (fw,), ())))
    assert "100%" in squash(page.root.by_id("fw-x").text())


def test_formatters():
    assert format_percent(0.625) == "62.5%"
    assert format_percent(1.0) == "100%"
    assert format_percent(0.8333) == "83.3%"
    assert format_size(0) == "0 B"
    assert format_size(2048) == "2.0 KB"
    assert format_size(5 * 1024 * 1024) == "5.0 MB"
