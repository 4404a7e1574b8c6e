"""Regenerate docs/report-top.png, the top of the demo report shown in the README.

Usage (from the repository, with the test extras installed: playwright, and Debian's chromium)::

    python docs/screenshot.py [--chromium PATH]

It builds the demo quality system and scans it in a temporary folder (nothing is written in the
repository but the picture), opens the report in headless chromium at 1280 x 1000 CSS pixels and
saves what a reader sees first: the contents, the summary, the ISO clause map and the start of the
CMMI practice-area matrix.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # make ``fixtures`` importable

from fixtures import demo_qms  # noqa: E402
from gapscan.scanner.config import Config  # noqa: E402
from gapscan.scanner.output import write_reports  # noqa: E402
from gapscan.scanner.pipeline import scan  # noqa: E402

OUTPUT = HERE / "report-top.png"
WIDTH, HEIGHT = 1280, 1000
MAX_BYTES = 300_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"),
                        help="the chromium executable (default: chromium on PATH)")
    args = parser.parse_args(argv)
    if not args.chromium:
        parser.error("chromium not found: apt-get install chromium, or give --chromium PATH")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="gapscan-screenshot-") as work:
        work_dir = Path(work)
        demo = demo_qms.build(work_dir / "demo-qms")
        result = scan(demo, Config(), index_path=work_dir / "index.sqlite", jobs=2)
        # Named as the README's quickstart names it, not by this run's temporary folder.
        shown = replace(result.report, root="fixtures/demo-qms")
        (report,) = write_reports(shown, work_dir / "out", ("html",))
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=args.chromium, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
            page.goto(report.as_uri(), wait_until="load")
            page.screenshot(path=str(OUTPUT), full_page=False)
            browser.close()
    size = OUTPUT.stat().st_size
    print(f"wrote {OUTPUT.relative_to(HERE.parent)} ({size / 1000:.0f} KB)")
    if size > MAX_BYTES:
        print(f"warning: larger than {MAX_BYTES / 1000:.0f} KB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
