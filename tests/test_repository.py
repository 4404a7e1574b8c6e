"""Promises the repository makes to its users: the README's commands and what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    scan, tests = readme_commands()
    assert text.index(scan) < 200
    assert "fixtures/demo_qms.py" in scan and "gapscan scan fixtures/demo-qms" in scan
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_commands()[1] in script


def test_the_legend_of_requirement_kinds_is_the_same_in_the_docs():
    from gapscan.mappings import EVIDENCE_KINDS

    for document in ("README.md", "docs/report-json.md"):
        text = (ROOT / document).read_text(encoding="utf-8")
        for kind, (label, meaning) in EVIDENCE_KINDS.items():
            assert f"| `{kind}` | {label} | {meaning} |" in text, (document, kind)


def test_readme_shows_the_report_screenshot_made_by_its_script():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/report-top.png)" in text and "python docs/screenshot.py" in text
    picture = ROOT / "docs" / "report-top.png"
    assert picture.read_bytes().startswith(b"\x89PNG") and picture.stat().st_size < 300_000
