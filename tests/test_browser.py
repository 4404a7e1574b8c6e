"""``report.html`` in a real browser: Debian's headless chromium driven by Playwright (never a
browser download of Playwright's own). The summary, contents, maps, action plan and CI gate are
there and link where they say; filtering and sorting work; the page makes no network request and
logs no console error; hostile names run nothing; it prints to PDF cleanly; and published (copied
to another folder and served over HTTP with ``--link-base``) every document link resolves.

Without chromium the tests skip, unless ``CI`` is set: there they fail, and ``.ci/run`` installs
chromium first.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from gapscan.reports.gate import Publication, Waiver, compare, parse_baseline, review_waivers
from gapscan.reports.html import render_html
from gapscan.reports.json_report import report_dict
from report_samples import AUDIT, POLICY, SCRIPT, big_report, sample_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a closed network: no background requests, no component updates, no first-run UI.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--no-first-run", "--disable-quic"]


def _need_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package (pip install -e '.[test]')"
    else:
        missing = None if CHROMIUM else "Debian's chromium (apt-get install chromium)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is required in CI (.ci/run installs it)")
        pytest.skip(f"{missing} is not installed")


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


def watched_page(browser):
    """A new page and everything it does: requests, console messages, errors, dialogs."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events = {"requests": [], "console": [], "errors": [], "dialogs": []}
    page.on("request", lambda request: events["requests"].append(request.url))
    page.on("console", lambda message: events["console"].append((message.type, message.text)))
    page.on("pageerror", lambda error: events["errors"].append(str(error)))
    page.on("dialog", lambda dialog: (events["dialogs"].append(dialog.message), dialog.dismiss()))
    return page, events


def _publication(report) -> Publication:
    """A CI run: 10.2 was covered in the baseline, SAM is waived, an old waiver has expired."""
    before = report_dict(report)
    for framework in before["frameworks"]:
        for item in framework["requirements"]:
            if item["id"] == "10.2":
                item["status"] = "covered"
    before["frameworks"][0]["coverage"] = 0.5  # ISO lost 10 points since
    waivers = (Waiver("cmmi-v2-dev", "SAM", "No suppliers until 2030", date(2030, 1, 31)),
               Waiver("iso9001-2015", "4.1", "An old one", date(2025, 1, 31)))
    return Publication(diff=compare(parse_baseline(before), report),
                       waivers=review_waivers(waivers, report, date(2026, 5, 2)), fail_on="new-gaps")


@pytest.fixture(scope="module")
def browser_session(browser, tmp_path_factory):
    report = sample_report()
    html = render_html(report, link_base="../qms/", publication=_publication(report))
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_bytes(html.encode("utf-8", "replace"))
    page, events = watched_page(browser)
    yield page, events, path
    page.close()


@pytest.fixture()
def browser_page(browser_session):
    """The report freshly loaded (no filter, no sort), the browser's events since its start."""
    page, events, path = browser_session
    page.emulate_media(media="screen")
    page.goto(path.as_uri(), wait_until="load")
    return page, events, path


def visible_rows(page, section: str) -> list[tuple[str, str]]:
    rows = page.eval_on_selector_all(
        f"#{section} tr.req",
        "rows => rows.filter(r => !r.parentNode.hidden).map(r => [r.cells[0].textContent.trim(), r.dataset.status])",
    )
    return [tuple(row) for row in rows]


def test_script_runs_under_the_content_security_policy(browser_page):
    page, events, _ = browser_page
    assert page.is_visible("#toolbar")  # the toolbar is hidden until the page's own script shows it
    assert page.eval_on_selector_all("th[data-sort] button.sort", "b => b.length") == 8  # 4 per table


def test_filtering_by_status_and_search(browser_page):
    page, _, _ = browser_page
    page.click("button[data-filter=missing]")
    rows = visible_rows(page, "fw-iso9001-2015") + visible_rows(page, "fw-cmmi-v2-dev")
    assert sorted(rows) == [("10.2", "missing"), ("7.1.5", "missing"), ("CAR 3.1", "missing"), ("SAM 2.1", "missing")]
    assert "showing 4 of 9 requirements" in page.inner_text("#filter-note")
    page.click("button[data-filter=all]")
    page.fill("#search", "internal audit")
    assert visible_rows(page, "fw-iso9001-2015") == [("9.2", "partial")]
    assert not page.is_visible("#fw-cmmi-v2-dev tbody.req-block")
    assert page.is_visible("#fw-cmmi-v2-dev .no-match")
    page.fill("#search", "")
    assert len(visible_rows(page, "fw-iso9001-2015")) == 6 and not page.is_visible("#filter-note")


def test_sorting_by_column(browser_page):
    page, _, _ = browser_page
    table = "#fw-iso9001-2015 table.reqs"
    catalog_order = [r[0] for r in visible_rows(page, "fw-iso9001-2015")]
    assert catalog_order == ["4.1", "7.1.5", "8.3", "9.2", "9.3", "10.2"]  # clause order, numbers as numbers

    page.click(f"{table} th[data-sort=status] button")
    assert page.get_attribute(f"{table} th[data-sort=status]", "aria-sort") == "ascending"
    statuses = [r[1] for r in visible_rows(page, "fw-iso9001-2015")]
    assert statuses == ["missing", "missing", "partial", "partial", "covered", "not_applicable"]
    assert not page.is_visible(f"{table} tbody.group-head")  # groups make no sense in another order
    page.click(f"{table} th[data-sort=status] button")
    assert visible_rows(page, "fw-iso9001-2015")[0] == ("8.3", "not_applicable")

    page.click(f"{table} th[data-sort=score] button")
    page.click(f"{table} th[data-sort=score] button")  # descending: the strongest evidence first
    assert [r[0] for r in visible_rows(page, "fw-iso9001-2015")][:2] == ["4.1", "9.2"]

    page.click(f"{table} th[data-sort=title] button")
    titles = page.eval_on_selector_all(f"{table} tr.req td.rtitle", "cells => cells.map(c => c.firstChild.nodeValue)")
    assert titles == sorted(titles, key=str.lower)

    page.click("button[data-filter=partial]")  # filtering still works on a sorted table
    assert [r[0] for r in visible_rows(page, "fw-iso9001-2015")] == ["9.2", "9.3"]
    page.click("button[data-filter=all]")

    page.click(f"{table} th[data-sort=order] button")  # ID ascending: the catalog's order, groups back
    assert [r[0] for r in visible_rows(page, "fw-iso9001-2015")] == catalog_order
    assert page.is_visible(f"{table} tbody.group-head")


def assert_lands_below_the_toolbar(page, selector: str) -> None:
    """The element is on screen, and not hidden under the sticky toolbar."""
    top = page.eval_on_selector(selector, "e => e.getBoundingClientRect().top")
    stuck, bottom = page.eval_on_selector("#toolbar", "t => [t.getBoundingClientRect().top <= 0, "
                                                      "t.getBoundingClientRect().bottom]")
    assert (bottom if stuck else 0) <= top + 1 < 900, (selector, top, stuck, bottom)


def test_summary_contents_and_gate_at_the_top(browser_page):
    page, _, _ = browser_page
    cards = page.eval_on_selector_all("#summary .fw-card", "cs => cs.map(c => c.innerText.replace(/\\s+/g, ' '))")
    assert cards[0].startswith("ISO 9001:2015 Quality management systems 40% coverage \u221210 pts")
    assert "1 covered 2 partial 2 missing 1 not applicable" in cards[0]
    assert "Since the baseline: 1 new gap, 0 resolved" in cards[0]
    assert page.inner_text(".gate-card").split() == ["CI", "gate", "\u2715", "Failed", "1", "gate", "failed:", "1",
                                                     "new", "gap(s)", "since", "the", "baseline", "(--fail-on",
                                                     "new-gaps):", "iso9001-2015", "10.2", "(covered", "\u2192",
                                                     "missing)"]
    # Every entry of the contents leads somewhere on the page, and following it scrolls there.
    targets = page.eval_on_selector_all("#contents a", "links => links.map(a => a.getAttribute('href'))")
    assert targets == ["#summary", "#gate", "#map-iso9001-2015", "#map-cmmi-v2-dev", "#actions",
                       "#fw-iso9001-2015", "#fw-cmmi-v2-dev", "#documents", "#legend"]
    page.click("#contents a[href='#fw-cmmi-v2-dev']")
    assert_lands_below_the_toolbar(page, "#fw-cmmi-v2-dev")
    gate = " ".join(page.text_content("#gate").split())
    assert "New gaps" in gate and "Active CMMI SAM, until 2030-01-31: No suppliers until 2030 (waives SAM 2.1)" in gate
    assert "Expired ISO 4.1, on 2025-01-31; it no longer applies: An old one" in gate


def test_maps_link_each_tile_to_its_row_even_when_filtered_out(browser_page):
    page, _, _ = browser_page
    assert page.eval_on_selector_all("#map-iso9001-2015 a.tile", "ts => ts.map(t => t.textContent.trim())") == [
        "\u27134.1", "\u27157.1.5", "\u20138.3", "\u25d09.2", "\u25d09.3", "\u271510.2"]
    matrix = page.eval_on_selector_all("#map-cmmi-v2-dev tbody tr", "rows => rows.map(r => Array.from(r.cells)"
                                       ".map(c => c.textContent.replace(/\\s+/g, ' ').trim()))")
    assert matrix == [["CAR", "", "\u27153.1"], ["PQA Process Quality Assurance", "\u27132.1", ""],
                      ["SAM Supplier Agreement Management", "\u27152.1", ""]]
    page.click("button[data-filter=covered]")
    assert not page.is_visible("#req-iso9001-2015-10\\.2")
    page.click("#map-iso9001-2015 a.tile[href='#req-iso9001-2015-10.2']")
    # the filters step aside, and the row is on screen
    assert page.is_visible("#req-iso9001-2015-10\\.2")
    assert page.get_attribute("button[data-filter=all]", "aria-pressed") == "true"
    assert_lands_below_the_toolbar(page, "#req-iso9001-2015-10\\.2")


def test_action_plan_lists_every_gap_once_and_links_rows(browser_page):
    page, _, _ = browser_page
    heads = page.eval_on_selector_all("#actions li.action .a-head",
                                      "hs => hs.map(h => h.innerText.replace(/\\s+/g, ' '))")
    assert heads[0].startswith("1 ISO 10.2 Nonconformity and corrective action")
    assert "closes 2 gaps in ISO and CMMI" in heads[0]
    assert len(heads) == 5  # six gaps: CAR 3.1 rides along with ISO 10.2
    first = page.text_content("#action-1")
    assert "An auditor expects" in first and "Also closes" in first
    page.click("#action-1 a.chip")
    assert_lands_below_the_toolbar(page, "#req-cmmi-v2-dev-CAR-3\\.1")
    # a requirement's row names its action, and the link leads to it
    todo = "#req-iso9001-2015-7\\.1\\.5 p.todo"
    assert page.text_content(todo) == "Action 3: Produce evidence that it is done"
    page.click(f"{todo} a")
    assert_lands_below_the_toolbar(page, "#action-3")
    assert page.text_content("#req-cmmi-v2-dev-CAR-3\\.1 p.todo") == "Closed with action 1, with ISO 10.2"


def test_a_row_opens_its_action_among_the_folded_ones(browser, tmp_path):
    big = big_report(requirements=24, path_chars=20)
    report = replace(big, frameworks=big.frameworks[:1])
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    page, events = watched_page(browser)
    page.goto(path.as_uri(), wait_until="load")
    assert page.eval_on_selector_all("#actions > ol > li.action", "items => items.length") == 10
    assert not page.is_visible("#action-20")  # folded away under "The other 14 actions"
    link = page.eval_on_selector_all("p.todo a[href='#action-20']", "links => links.length")
    assert link == 1
    page.click("p.todo a[href='#action-20']")
    assert page.is_visible("#action-20")
    assert_lands_below_the_toolbar(page, "#action-20")
    assert events["errors"] == []
    page.close()


def test_framework_filter_shows_one_framework(browser_page):
    page, _, _ = browser_page
    page.click("button[data-framework-filter=cmmi-v2-dev]")
    assert not page.is_visible("#fw-iso9001-2015") and not page.is_visible("#map-iso9001-2015")
    assert page.is_visible("#fw-cmmi-v2-dev") and page.is_visible("#map-cmmi-v2-dev")
    assert "(CMMI only): showing 3 of 3 requirements" in page.inner_text("#filter-note")
    page.click("button[data-filter=missing]")
    assert sorted(visible_rows(page, "fw-cmmi-v2-dev")) == [("CAR 3.1", "missing"), ("SAM 2.1", "missing")]
    assert "(CMMI only, status Missing): showing 2 of 3 requirements" in page.inner_text("#filter-note")
    page.click("button[data-framework-filter=all]")
    page.click("button[data-filter=all]")
    assert page.is_visible("#fw-iso9001-2015") and not page.is_visible("#filter-note")


def test_trend_is_drawn_inline(browser_page):
    page, _, _ = browser_page
    assert page.is_visible("svg.trend")
    lines = page.eval_on_selector_all("svg.trend g.series", "gs => gs.map(g => [g.dataset.framework, "
                                      "g.querySelectorAll('polyline').length, g.querySelectorAll('circle').length])")
    assert lines == [["iso9001-2015", 1, 5], ["cmmi-v2-dev", 1, 4]]
    legend = " ".join(page.inner_text(".legend").split())
    assert "ISO 15% \u2192 50%" in legend and "CMMI 10% \u2192 40%" in legend


def test_no_network_no_console_error_no_script_from_names(browser_page):
    page, events, path = browser_page
    assert set(events["requests"]) == {path.as_uri()}
    assert not [m for m in events["console"] if m[0] in ("error", "warning")], events["console"]
    assert events["errors"] == [] and events["dialogs"] == []
    assert SCRIPT in page.inner_text("body")  # the hostile name is there, as text
    assert page.eval_on_selector_all("script", "s => s.length") == 1


def test_prints_to_pdf_cleanly(browser_page):
    page, events, _ = browser_page
    page.emulate_media(media="print")
    assert not page.is_visible("#toolbar")
    # Details are expanded in print: what an auditor would otherwise have to click open is on paper.
    assert page.is_visible("#fw-iso9001-2015 .more-body")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert 2 <= len(reader.pages) <= 12
    text = " ".join(page_.extract_text() for page_ in reader.pages)
    squashed = " ".join(text.split())
    assert "Internal audit" in squashed and "calibration records" in squashed
    assert "Expand all" not in squashed and "Search requirements" not in squashed
    assert "Action plan" in squashed and "ISO clause map" in squashed
    assert not [m for m in events["console"] if m[0] == "error"]


def test_trend_and_sort_markup_without_a_browser():
    """What the browser tests rely on, checked in the markup (runs without chromium too)."""
    import base64
    import hashlib
    import re

    html = render_html(sample_report(history=True), link_base="")
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html  # the CSP still names the (longer) page script
    assert html.count('<svg class="trend"') == 1 and "http://" not in html.split("<svg class=\"trend\"")[1][:4000]
    assert html.count("data-sort=") == 8 and html.count("data-order=") == 9
    assert 'data-score="0.61"' in html
    no_history = render_html(sample_report(history=False))
    assert '<svg class="trend"' not in no_history


# -- published: the report copied elsewhere and served over HTTP --------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A real scan written with --link-base, its report copied to another folder; one HTTP server
    on 127.0.0.1 serves the documents under /qms/ and the copy under /ci-artifacts/run-1/."""
    from click.testing import CliRunner

    from gapscan.scanner.cli import main

    site = tmp_path_factory.mktemp("site")
    qms = site / "qms"
    (qms / "records" / "audits").mkdir(parents=True)
    (qms / "quality policy.md").write_text(POLICY, encoding="utf-8")
    (qms / "records" / "audits" / "audit report #2 (100%).md").write_text(AUDIT, encoding="utf-8")
    (qms / "records" / "unreadable.docx").write_bytes(b"PK\x03\x04 truncated")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    out = tmp_path_factory.mktemp("out")
    done = CliRunner().invoke(main, ["scan", str(qms), "--out", str(out), "--index", str(out / "index.sqlite"),
                                     "--jobs", "1", "--quiet", "--format", "html,md", "--link-base", f"{base}/qms"],
                              catch_exceptions=False)
    assert done.exit_code == 0, done.output
    artifact = site / "ci-artifacts" / "run-1"
    artifact.mkdir(parents=True)
    shutil.copy(out / "report.html", artifact / "report.html")
    yield base, artifact, qms, out
    server.shutdown()


def test_published_report_links_every_document(browser, published):
    base, _, qms, out = published
    page, events = watched_page(browser)
    page.goto(f"{base}/ci-artifacts/run-1/report.html", wait_until="load")
    hrefs = page.eval_on_selector_all("a.path", "links => links.map(a => a.href)")
    documents = {str(p.relative_to(qms)) for p in qms.rglob("*") if p.is_file()}
    assert {unquote(urlsplit(h).path).removeprefix("/qms/") for h in hrefs} == documents
    for href in set(hrefs):
        assert href.startswith(f"{base}/qms/")
        response = page.request.get(href)
        assert response.status == 200, href
    assert "%23" in " ".join(hrefs) and "%25" in " ".join(hrefs)  # '#' and '%' in names are encoded
    assert not [m for m in events["console"] if m[0] in ("error", "warning")], events["console"]
    assert events["errors"] == []
    assert {urlsplit(r).netloc for r in events["requests"]} == {urlsplit(base).netloc}
    page.close()
    # The Markdown summary links the same addresses.
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"]({base}/qms/records/unreadable.docx)" in md


def test_unpublished_report_links_work_where_it_was_written(browser, published, tmp_path):
    from click.testing import CliRunner

    from gapscan.scanner.cli import main

    _, _, qms, _ = published
    out = tmp_path / "reports" / "latest"
    done = CliRunner().invoke(main, ["scan", str(qms), "--out", str(out), "--index", str(tmp_path / "index.sqlite"),
                                     "--jobs", "1", "--quiet"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    page, events = watched_page(browser)
    page.goto((out / "report.html").as_uri(), wait_until="load")
    hrefs = page.eval_on_selector_all("a.path", "links => links.map(a => a.href)")
    assert hrefs and all(h.startswith("file://") for h in hrefs)
    for href in hrefs:
        assert Path(unquote(urlsplit(href).path)).is_file(), href
    assert events["errors"] == [] and not [m for m in events["console"] if m[0] == "error"]
    page.close()
