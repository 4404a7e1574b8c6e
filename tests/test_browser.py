"""``report.html`` in a real browser: Debian's headless chromium driven by Playwright (never a
browser download of Playwright's own). Filtering and sorting work, the page makes no network
request and logs no console error, hostile names run nothing, and it prints to PDF cleanly.

Without chromium the tests skip, unless ``CI`` is set: there they fail, and ``.ci/run`` installs
chromium first.
"""

from __future__ import annotations

import io
import os
import shutil

import pytest

from gapscan.reports.html import render_html
from report_samples import SCRIPT, sample_report

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
def browser_session(tmp_path_factory):
    _need_browser()
    from playwright.sync_api import sync_playwright

    html = render_html(sample_report(), link_base="../qms/")
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_bytes(html.encode("utf-8", "replace"))
    events = {"requests": [], "console": [], "errors": [], "dialogs": []}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda request: events["requests"].append(request.url))
        page.on("console", lambda message: events["console"].append((message.type, message.text)))
        page.on("pageerror", lambda error: events["errors"].append(str(error)))
        page.on("dialog", lambda dialog: (events["dialogs"].append(dialog.message), dialog.dismiss()))
        yield page, events, path
        browser.close()


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
    assert catalog_order == ["4.1", "7.1.5", "9.2", "9.3", "10.2", "8.3"]  # the report's order

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
    assert "Expand all details" not in squashed and "Search requirements" not in squashed
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
