"""Extraction of every format from generated documents, and of broken and hostile files."""

from __future__ import annotations

import hashlib
import os
import random
import time
import zipfile
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from pebble import ProcessExpired

from fixtures.documents import (
    DocSpec,
    Part,
    Table,
    write_document,
    write_pdf_manual,
    write_encrypted_pdf,
    write_ole_encrypted,
    write_slow_pdf,
    write_truncated,
    write_zip_bomb_docx,
)
from gapscan.scanner.common.documents import (
    Document,
    Extract,
    ExtractResult,
    Section,
    Unreadable,
    format_of,
)
from gapscan.scanner.extract import Known, Limits, _outcome, extract_all, extract_file
from gapscan.scanner.extract.dates import dates_in_text
from gapscan.scanner.extract.guards import _CONTROLS, _SPACES, normalise
from gapscan.scanner.common.text import clean_text
from gapscan.scanner.extract.pdf import pdf_date
from fixtures.latex import write_latex_manual

SPEC = DocSpec(
    title="Quality Manual",
    parts=(
        Part("Purpose", ("This manual describes the quality management system.",)),
        Part(
            "Internal audit",
            ("Audits are planned every year.", "Findings go to the  CAPA log."),
            Table((("Audit", "Auditor"), ("Supplier evaluation", "Jane Auditor"))),
        ),
        Part("Records", (), Table((("Record", "Retention"), ("Calibration log", "7 years")))),
    ),
    author="Quinn Manager",
    created=datetime(2023, 1, 2, 3, 4, 5),
    modified=datetime(2024, 2, 3, 4, 5, 6),
)
HEADINGS = ["Quality Manual", "Purpose", "Internal audit", "Records"]
SHEETS = ["sheet Purpose", "sheet Internal audit", "sheet Records"]
SLIDES = [f"slide {n}: {heading}" for n, heading in enumerate(HEADINGS, start=1)]

# suffix -> (expected locators, whether the format carries title and author)
FORMATS = {
    ".docx": (HEADINGS, True),
    ".odt": (HEADINGS, True),
    ".md": (HEADINGS, True),
    ".html": (HEADINGS, True),
    ".tex": (HEADINGS, True),
    ".xlsx": (SHEETS, True),
    ".ods": (SHEETS, True),
    ".pdf": ([f"{heading} (p. {page})" for heading, page in zip(HEADINGS, (1, 1, 2, 3), strict=True)], True),
    ".pptx": (SLIDES, True),
    ".odp": (SLIDES, True),
    ".txt": (["text"], False),
    ".csv": (["table"], False),
    ".tsv": (["table"], False),
}
ZIP_SUFFIXES = [".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"]
TEXT_SUFFIXES = [".md", ".txt", ".csv", ".html", ""]


def document_for(path: Path) -> Document:
    stat = path.stat()
    return Document(path.name, format_of(path.name) or "txt", stat.st_size, stat.st_mtime)


def extract(path: Path, limits: Limits = Limits()) -> ExtractResult:
    return extract_file(path, document_for(path), limits)


def readable(path: Path, limits: Limits = Limits()) -> Extract:
    result = extract(path, limits)
    assert isinstance(result, Extract), result
    return result


def reason(path: Path, limits: Limits = Limits()) -> str:
    result = extract(path, limits)
    assert isinstance(result, Unreadable), result
    return result.reason


# --- every format ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
def test_generated_document_extracts(tmp_path: Path, suffix: str) -> None:
    locators, has_properties = FORMATS[suffix]
    result = readable(write_document(tmp_path / f"manual{suffix}", SPEC))

    assert [section.locator for section in result.sections] == locators
    assert result.warnings == ()
    for section in result.sections:
        assert section.text.strip()
        assert "  " not in section.text and "\n\n" not in section.text
    text = result.text
    for needle in ("Findings go to the CAPA log.", "Supplier evaluation", "Jane Auditor",
                   "Calibration log", "7 years"):  # fmt: skip
        assert needle in text
    if has_properties:
        assert result.metadata.title == "Quality Manual"
        assert result.metadata.author == "Quinn Manager"


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"])
def test_office_dates_come_from_properties(tmp_path: Path, suffix: str) -> None:
    metadata = readable(write_document(tmp_path / f"manual{suffix}", SPEC)).metadata
    assert metadata.created == "2023-01-02T03:04:05"
    assert metadata.modified == "2024-02-03T04:05:06"


def test_pdf_creation_date_is_utc(tmp_path: Path) -> None:
    created = datetime(2023, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    spec = DocSpec("Plan", (Part("Scope", ("It covers every product line.",)),), created=created)
    metadata = readable(write_document(tmp_path / "plan.pdf", spec)).metadata
    assert metadata.created == "2023-01-02T01:04:05"


@pytest.mark.parametrize(("written", "expected"), [
    ("D:20260301093000+01'00'", datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))),
    ("D:20260301093000-05'30", datetime(2026, 3, 1, 9, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("D:20260301093000Z", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
    ("D:2026", datetime(2026, 1, 1)),  # every part after the year may be left out
    ("20260301", datetime(2026, 3, 1)),  # and the D: too, as some writers do
    ("D:20261301", None),  # month 13
    ("yesterday", None),
    ("", None),
])
def test_pdf_dates_are_read_as_written(written: str, expected: datetime | None) -> None:
    assert pdf_date(written) == expected


def test_docx_section_text_follows_its_heading(tmp_path: Path) -> None:
    sections = readable(write_document(tmp_path / "manual.docx", SPEC)).sections
    audit = next(section for section in sections if section.locator == "Internal audit")
    assert audit.text.splitlines() == [
        "Internal audit",
        "Audits are planned every year.",
        "Findings go to the CAPA log.",
        "Audit | Auditor",
        "Supplier evaluation | Jane Auditor",
    ]


def test_docx_headers_and_footers_are_read(tmp_path: Path) -> None:
    import docx

    path = write_document(tmp_path / "sop.docx", SPEC)
    word = docx.Document(str(path))
    word.sections[0].header.paragraphs[0].text = "SOP-007 | Effective date: 01/03/2024"
    word.save(str(path))
    result = readable(path)
    header = Section("header and footer", "SOP-007 | Effective date: 01/03/2024")
    assert result.sections[0] == header
    assert result.metadata.dates_in_text == ("2024-03-01",)


def test_pptx_reads_speaker_notes(tmp_path: Path) -> None:
    from pptx import Presentation

    path = write_document(tmp_path / "review.pptx", SPEC)
    deck = Presentation(str(path))
    deck.slides[1].notes_slide.notes_text_frame.text = "Mention the supplier audit."
    deck.save(str(path))
    assert "Mention the supplier audit." in readable(path).sections[1].text


def test_markdown_structure_and_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "procedure.md"
    path.write_text(
        "---\ntitle: Control of documents\nauthor: QA\ndate: 2024-05-06\n---\n"
        "Intro with a [link](https://example.com) and **bold**.\n\n"
        "Scope\n=====\n\nAll controlled documents.\n\n"
        "```\n# not a heading\n```\n"
        "## Review ##\n\n| Step | Owner |\n|------|-------|\n| Approve | QA |\n",
        encoding="utf-8",
    )
    result = readable(path)
    assert [s.locator for s in result.sections] == ["start", "Scope", "Review"]
    assert result.sections[0].text == "Intro with a link and bold."
    assert "# not a heading" in result.sections[1].text
    assert result.sections[2].text.splitlines() == ["Review", "Step | Owner", "Approve | QA"]
    assert (result.metadata.title, result.metadata.author) == ("Control of documents", "QA")
    assert result.metadata.modified == "2024-05-06"


def test_html_drops_scripts_and_styles(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Policy</title><style>p {color: red}</style></head><body>"
        "<script>var secret = 1;</script><p>Quality &amp; safety\nfirst.</p>"
        "<h2>Objectives</h2><ul><li>On time</li><li>Right first time</li></ul></body></html>",
        encoding="utf-8",
    )
    result = readable(path)
    assert result.metadata.title == "Policy"
    assert [(s.locator, s.text) for s in result.sections] == [
        ("start", "Quality & safety first."),
        ("Objectives", "Objectives\nOn time\nRight first time"),
    ]


def test_extensionless_text_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "CAPA_Resolution"
    path.write_text("Root cause identified; corrective action verified.\n", encoding="utf-8")
    assert readable(path).text == "Root cause identified; corrective action verified."


# --- encodings -------------------------------------------------------------------------------

SAMPLE = "Quality policy – reviewed “annually” by the café’s management.\n" * 3


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-16 with BOM", SAMPLE.encode("utf-16")),
        ("utf-16-le without BOM", SAMPLE.encode("utf-16-le")),
        ("utf-8 with BOM", SAMPLE.encode("utf-8-sig")),
        ("cp1252", SAMPLE.encode("cp1252")),
    ],
)
def test_text_encodings_decode(tmp_path: Path, encoding: str, data: bytes) -> None:
    path = tmp_path / "policy.txt"
    path.write_bytes(data)
    assert readable(path).text == SAMPLE.strip()


# --- broken, hostile and unsupported files ---------------------------------------------------


@pytest.mark.parametrize("suffix", [*FORMATS, ""])
def test_zero_byte_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    assert reason(path) == "empty file (0 bytes)"


@pytest.mark.parametrize("suffix", [*ZIP_SUFFIXES, ".pdf", *TEXT_SUFFIXES])
def test_random_bytes(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(random.Random(7).randbytes(4096))
    expected = {".pdf": "corrupt: not a PDF file"}.get(suffix, "not a text file")
    if suffix in ZIP_SUFFIXES:
        expected = f"corrupt: not a valid {suffix} (zip) file"
    assert reason(path) == expected


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".pptx", ".pdf", ".odt"])
def test_truncated_file(tmp_path: Path, suffix: str) -> None:
    valid = write_document(tmp_path / f"valid{suffix}", SPEC)
    assert reason(write_truncated(valid, tmp_path / f"cut{suffix}")).startswith("corrupt: ")


def test_password_protected_pdf_is_unreadable(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "secret.pdf", user_password="letmein")
    assert reason(path) == "encrypted (password-protected PDF)"


def test_owner_restricted_pdf_is_readable(tmp_path: Path) -> None:
    path = write_encrypted_pdf(tmp_path / "restricted.pdf", user_password="")
    assert "Audit findings." in readable(path).text


@pytest.mark.parametrize("caption", ["", "Final findings"])
def test_image_only_pdf_has_no_text(tmp_path: Path, caption: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        if caption:
            pdf.set_font("Helvetica", size=12)
            pdf.cell(text=caption)
        pdf.rect(20, 30, 100, 60, style="F")  # a drawing and nothing to read, like a scan
    pdf.output(str(tmp_path / "scan.pdf"))
    assert reason(tmp_path / "scan.pdf") == "no extractable text (image-only or empty)"


def test_whitespace_only_file_is_not_evidence(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text("\n   \n\t\n", encoding="utf-8")
    assert reason(path) == "no extractable text (image-only or empty)"


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write_zip_bomb_docx(tmp_path / "bomb.docx", inflated_bytes=20 * 1024 * 1024)
    assert path.stat().st_size < 200_000
    assert reason(path) == "zip bomb suspected: member word/document.xml inflates to 20.0 MB"


def test_archive_total_limit(tmp_path: Path) -> None:
    path = write_document(tmp_path / "manual.docx", SPEC)
    assert reason(path, Limits(max_archive_bytes=10_000)).startswith(
        "zip bomb suspected: archive inflates to"
    )


def test_xml_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.odt"
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
        "<office:body><office:text>&lol2;</office:text></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", lol)
    assert reason(path) == "unsafe XML: entity or DTD declarations are not allowed"


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".pptx"])
def test_password_protected_office_file(tmp_path: Path, suffix: str) -> None:
    path = write_ole_encrypted(tmp_path / f"locked{suffix}")
    assert reason(path) == "encrypted (password-protected Office file)"


@pytest.mark.parametrize(("suffix", "modern"), [(".doc", ".docx"), (".xls", ".xlsx"),
                                                (".ppt", ".pptx"), (".rtf", ".docx")])  # fmt: skip
def test_legacy_formats_are_skipped(tmp_path: Path, suffix: str, modern: str) -> None:
    path = tmp_path / f"old{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    result = extract(path)
    assert isinstance(result, Unreadable) and result.skipped
    assert result.reason == f"unsupported legacy format ({suffix}): save it as {modern}"


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = write_document(tmp_path / "manual.pdf", SPEC)
    assert reason(path, Limits(max_file_bytes=100)).startswith("too large (")


def test_text_is_truncated_with_a_warning(tmp_path: Path) -> None:
    result = readable(write_document(tmp_path / "manual.docx", SPEC), Limits(max_chars=60))
    assert len(result.text) <= 60
    assert result.warnings == ("text truncated at 60 characters",)


def test_huge_sheet_stops_at_the_character_budget(tmp_path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Log")
    for row in range(20_000):
        sheet.append([f"record {row}", "calibrated", row])
    workbook.save(tmp_path / "log.xlsx")
    result = readable(tmp_path / "log.xlsx", Limits(max_chars=2_000))
    assert len(result.text) <= 2_000
    assert result.warnings == ("text truncated at 2,000 characters",)


def test_missing_file_and_directory_do_not_raise(tmp_path: Path) -> None:
    gone = Document("gone.md", "md", 10, 0.0)
    assert extract_file(tmp_path / "gone.md", gone, Limits()) == Unreadable(
        gone, "cannot read: No such file or directory"
    )
    (tmp_path / "folder.md").mkdir()
    assert reason(tmp_path / "folder.md") == "a folder, not a regular file: never opened"


# --- one read per file: regular files only, bounded, hashed and parsed from the same bytes ------


def test_the_hash_is_of_the_bytes_that_were_parsed(tmp_path: Path) -> None:
    path = write_document(tmp_path / "manual.docx", SPEC)
    result = readable(path)
    assert result.document.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (result.document.size, result.document.mtime) == (path.stat().st_size, path.stat().st_mtime)
    assert extract_file(path, document_for(path), Limits(), known={result.document.sha256}) == Known(result.document)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_special_files_are_never_opened(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "notes.txt"
    expected = {"fifo": "a FIFO (named pipe)", "device": "a character device", "folder": "a folder"}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer for ever
    elif kind == "device":
        os.symlink("/dev/zero", path)  # endless
    else:
        path.mkdir()
    assert reason(path) == f"{expected}, not a regular file: never opened"


def test_a_symlink_out_of_the_tree_swapped_in_after_discovery_is_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "secret.md"
    root.mkdir()
    outside.write_text("# Secret\n\nNever read.\n", encoding="utf-8")
    (root / "notes.md").symlink_to(outside)
    result = extract_file(root / "notes.md", Document("notes.md", "md", 1, 0.0), Limits(), inside=str(root))
    assert result == Unreadable(Document("notes.md", "md", 1, 0.0),
                                f"a symlink that leads outside the scanned folder (to {outside}): not read")


def _bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def test_a_file_that_grew_since_discovery_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "growing.txt"
    path.write_bytes(b"audit log line\n" * 700_000)  # 10 MB now; discovery saw 15 bytes
    before = _bytes_read()
    result = extract_file(path, Document("growing.txt", "txt", 15, 0.0), Limits(max_file_bytes=1024 * 1024))
    assert result.reason == "too large (10.0 MB > limit 1.0 MB)"
    assert _bytes_read() - before < 1.5 * 1024 * 1024


def test_metadata_fields_obey_the_character_limits(tmp_path: Path) -> None:
    from fixtures.hostile import write_long_title

    for suffix in (".docx", ".odt"):
        path = write_long_title(tmp_path / f"long{suffix}", chars=3 * 1024 * 1024)
        assert len(readable(path).metadata.title) == 1000
        assert len(readable(path, Limits(max_chars=50)).metadata.title) == 50


def test_bidirectional_controls_in_titles_and_headings_are_written_out(tmp_path: Path) -> None:
    path = tmp_path / "policy.md"
    path.write_text("# Quality \u202epolicy\n\nTop management sets the quality policy.\n", encoding="utf-8")
    result = readable(path)
    assert result.metadata.title == "Quality <U+202E>policy"
    assert result.sections[0].locator == "Quality <U+202E>policy"


def test_markdown_that_makes_backtracking_quadratic_is_read_in_time(tmp_path: Path) -> None:
    """130 KB lines of "![", "[a](", "<a", "<!--" and spaces in a heading: before, 60 s and a time-out
    each; now read (the limit here is 10 s, on a loaded machine)."""
    from fixtures.hostile import REGEX_BOMBS

    jobs = []
    for name, line in REGEX_BOMBS.items():
        path = tmp_path / name
        path.write_text(f"# Audit\n\n{line}\n\nFindings are recorded.\n", encoding="utf-8")
        jobs.append((path, document_for(path)))
    results = list(extract_all(jobs, Limits(timeout_seconds=10), 2))
    assert len(results) == len(REGEX_BOMBS)
    assert all(isinstance(r, Extract) and "Findings are recorded." in r.text for r in results), results


def test_markdown_inline_markup_is_still_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("## Scope ##\n\nSee ![the flow](flow.png), the [audit plan](plan.md), <b>bold</b>"
                    " <!-- hidden --> and **strong** text.\n", encoding="utf-8")
    result = readable(path)
    assert result.sections[0].locator == "Scope"
    assert result.sections[0].text == "Scope\nSee the flow, the audit plan, bold and strong text."


# --- worker pool -----------------------------------------------------------------------------


def test_extract_all_returns_one_result_per_job(tmp_path: Path) -> None:
    paths = [write_document(tmp_path / f"manual{suffix}", SPEC) for suffix in (".docx", ".md")]
    paths.append(tmp_path / "broken.pdf")
    paths[-1].write_bytes(b"not a pdf")
    paths.append(tmp_path / "old.doc")
    paths[-1].write_bytes(b"x")
    results = list(extract_all([(p, document_for(p)) for p in paths], Limits(), workers=2))
    by_path = {result.document.path: result for result in results}
    assert len(results) == len(by_path) == 4
    assert isinstance(by_path["manual.docx"], Extract)
    assert isinstance(by_path["manual.md"], Extract)
    assert by_path["broken.pdf"].reason == "corrupt: not a PDF file"
    assert isinstance(by_path["old.doc"], Unreadable) and by_path["old.doc"].skipped


def test_workers_replaced_during_a_run_start_from_the_fork_server_and_read_the_same(tmp_path, monkeypatch):
    """Workers that are replaced during a run start from the fork server (not from the caller,
    whose memory grows with the scan); they read what a worker forked from the caller reads. A
    worker here is replaced after every file, so each file is read by a new one."""
    import multiprocessing

    from gapscan.scanner import extract
    from gapscan.scanner.extract import stop_worker_server

    paths = [write_document(tmp_path / f"manual{suffix}", SPEC) for suffix in (".docx", ".md")]
    jobs = [(p, document_for(p)) for p in paths]
    forked = {r.document.path: r for r in extract_all(jobs, Limits(), workers=1)}
    monkeypatch.setattr(extract, "_TASKS_PER_WORKER", 1)
    try:
        served = {r.document.path: r for r in extract_all(jobs, Limits(), workers=1)}
        assert multiprocessing.get_start_method(allow_none=True) != "forkserver"  # the process's default is left alone
        assert extract._server_owner == os.getpid()
    finally:
        stop_worker_server()
    assert served == forked and all(isinstance(r, Extract) for r in served.values())
    assert extract._server_owner is None


def test_hung_extraction_times_out_and_the_rest_goes_on(tmp_path: Path) -> None:
    # Real hostile input: a page that draws a form of 100,000 operators ten thousand times.
    slow = write_slow_pdf(tmp_path / "slow.pdf")
    fast = write_document(tmp_path / "fast.md", SPEC)
    jobs = [(slow, document_for(slow)), (fast, document_for(fast))]
    started = time.monotonic()
    results = {r.document.path: r for r in extract_all(jobs, Limits(timeout_seconds=1), 1)}
    assert results["slow.pdf"] == Unreadable(document_for(slow), "timed out after 1 s")
    assert isinstance(results["fast.md"], Extract)
    # The worker stuck in PDFium's C code is stopped at once, not after pebble's 3 s grace for SIGTERM.
    assert time.monotonic() - started < 3.5


def test_crashed_worker_becomes_unreadable() -> None:
    document = Document("a.pdf", "pdf", 1, 0.0)
    future: Future[ExtractResult] = Future()
    future.set_exception(ProcessExpired("Abnormal termination", code=-11))
    assert _outcome(future, document, Limits()) == Unreadable(
        document, "extraction crashed: worker killed by SIGSEGV"
    )


# --- dates in text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Effective date: 2024-03-01", ("2024-03-01",)),
        ("Review date: 01/03/2024", ("2024-03-01",)),
        ("Date of issue 1 March 2024", ("2024-03-01",)),
        ("Approved by J. Smith on March 1, 2024", ("2024-03-01",)),
        ("Revision date | 2024/03/01", ("2024-03-01",)),
        ("Last reviewed: 3rd Sept 2023", ("2023-09-03",)),
        ("Date: 12/25/2023", ("2023-12-25",)),  # only month-first makes sense
        ("Version | Date | Author\n1.0 | 2022-01-05 | A\n1.1 | 2023-02-06 | B",
         ("2022-01-05", "2023-02-06")),  # fmt: skip
        ("Change | Date\nInitial version | January 20, 2021", ("2021-01-20",)),
        ("Published: 20 May 2020", ("2020-05-20",)),
        ("Born 2024-03-01, unrelated", ()),  # no label
        ("Keep records up to date 2024-03-01", ()),  # "date" inside a sentence is no label
        ("Effective date: 1850-01-01", ()),  # implausible year
        ("Effective date: 2024-02-30", ()),  # no such day
    ],
)
def test_dates_in_text(text: str, expected: tuple[str, ...]) -> None:
    assert dates_in_text(text) == expected


def test_dates_are_read_only_near_the_top() -> None:
    assert dates_in_text("x" * 6000 + " Effective date: 2024-03-01") == ()


# --- LaTeX -----------------------------------------------------------------------------------


def latex_manual(tmp_path: Path) -> Extract:
    root = write_latex_manual(tmp_path)
    path = root / "quality-manual.tex"
    stat = path.stat()
    result = extract_file(path, Document("quality-manual.tex", "tex", stat.st_size, stat.st_mtime), Limits())
    assert isinstance(result, Extract), result
    return result


def test_latex_sections_follow_chapters_and_sections_across_included_files(tmp_path: Path) -> None:
    result = latex_manual(tmp_path)
    assert [section.locator for section in result.sections] == [
        "Quality Manual", "Scope of the quality management system", "Context of the organisation",
        "Interested parties", "Internal audit", "Audit programme and schedule", "Records",
        "Retention of records",
    ]  # fmt: skip
    assert result.includes == ("chapters/context.tex", "chapters/loop.tex", "chapters/audit.tex")
    assert result.metadata.title == "Quality Manual"
    assert result.metadata.author == "Quinn Manager, Alex Auditor"
    assert result.metadata.modified == "2025-03-01"
    assert result.language == "en"


def test_latex_markup_is_stripped_to_readable_text(tmp_path: Path) -> None:
    sections = {section.locator: section.text for section in latex_manual(tmp_path).sections}
    scope = sections["Scope of the quality management system"]
    assert "covers the design, manufacture and servicing of industrial widgets (see Chapter )." in scope
    assert "Acme Widgets" in scope and "Price: 100 % of list; costs $5 & up." in scope
    assert "mc^2" not in scope and "sum" not in scope and "\\" not in scope
    assert sections["Context of the organisation"].splitlines()[1:] == [
        "We review internal and external issues every year at the management review.",
        "Customer requirements",
        "Regulation: the machinery directive",
    ]
    assert "the régulateur français are listed" in sections["Interested parties"]
    assert "Each chapter is reviewed by the quality manager." in sections["Interested parties"]
    audit = sections["Audit programme and schedule"]
    assert "internal audits — at least once a year — and keeps the audit programme up to date. See form QF-09." in audit
    assert "Auditor independence\nAuditors never audit their own work." in audit
    assert "https" not in audit and "%" not in audit
    assert sections["Retention of records"].splitlines()[1:] == [
        "Record | Retention", "Audit report | 5 years", "LOG-2025-001 audit closed"]
    text = "\n".join(sections.values())
    for leaked in ("documentclass", "usepackage", "graphicx", "ch:scope", "tableofcontents", "Controlled copy",
                   "frac", "draft", "{", "}"):
        assert leaked not in text, leaked


def test_latex_input_never_reads_outside_the_scanned_root(tmp_path: Path) -> None:
    result = latex_manual(tmp_path)
    assert "Salary" not in result.text
    assert result.warnings == (
        "\\input{chapters/context}: forms a loop, not read again",
        "\\input{../secret}: outside the scanned folder, not read",
        "\\input{chapters/missing}: file not found",
    )


def test_latex_input_through_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "qms"
    root.mkdir()
    (tmp_path / "private.tex").write_text("Private salary data.", encoding="utf-8")
    (root / "link.tex").symlink_to(tmp_path / "private.tex")
    (root / "main.tex").write_text("\\section{Policy}\nOur quality policy.\n\\input{link}\n", encoding="utf-8")
    stat = (root / "main.tex").stat()
    result = extract_file(root / "main.tex", Document("main.tex", "tex", stat.st_size, stat.st_mtime), Limits())
    assert isinstance(result, Extract) and "salary" not in result.text
    assert result.warnings == ("\\input{link}: outside the scanned folder, not read",)


def test_latex_includes_are_bounded_in_depth(tmp_path: Path) -> None:
    for level in range(12):
        (tmp_path / f"level{level}.tex").write_text(f"Level {level} text.\n\\input{{level{level + 1}}}\n")
    result = readable(tmp_path / "level0.tex")
    assert "Level 8 text." in result.text and "Level 10 text." not in result.text
    assert any("nested more than 8 deep" in warning for warning in result.warnings)


def test_latex_text_respects_the_character_budget(tmp_path: Path) -> None:
    (tmp_path / "chapter.tex").write_text("\\section{Audit}\n" + "Audit findings are recorded. " * 2000)
    (tmp_path / "main.tex").write_text("\\input{chapter}\n\\input{chapter}\n")
    result = readable(tmp_path / "main.tex", Limits(max_chars=5_000))
    assert len(result.text) <= 5_000
    assert "text truncated at 5,000 characters" in result.warnings


def test_unbalanced_latex_still_gives_its_text(tmp_path: Path) -> None:
    path = tmp_path / "broken.tex"
    path.write_text("\\section{Scope\nThe scope {covers $ everything \\textbf{we \\begin{itemize} do.",
                    encoding="utf-8")
    assert "The scope covers everything we do." in readable(path).text


def latex_in_a_worker(root: Path, source: str, limits: Limits = Limits(timeout_seconds=10)) -> Extract:
    """``root/main.tex`` read as a scan reads it: in a worker, so a read that blocks or a parse that
    loops is a time-out (the test fails) rather than a hung test run."""
    main = root / "main.tex"
    main.write_text(source, encoding="utf-8")
    (result,) = extract_all([(main, Document("main.tex", "tex", 0, 0.0))], limits, 1, inside=str(root))
    assert isinstance(result, Extract), result
    return result


def test_latex_input_of_a_fifo_or_a_folder_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.tex")  # opening it would wait for a writer for ever
    (tmp_path / "chapters").mkdir()
    result = latex_in_a_worker(tmp_path, "\\section{Policy}\nOur quality policy.\n\\input{pipe}\n\\input{chapters}\n")
    assert "Our quality policy." in result.text
    assert result.warnings == (
        "pipe.tex: not read (a FIFO (named pipe), not a regular file: never opened)",
        "\\input{chapters}: file not found",
    )
    assert result.includes == ("pipe.tex",)  # a file put there later is read at the next scan


def test_latex_input_obeys_the_size_limit_and_a_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "big.tex").write_text("\\section{Annex}\n" + "Audit findings are recorded. " * 2000)
    (tmp_path / "loop.tex").symlink_to(tmp_path / "loop.tex")
    limits = Limits(max_file_bytes=10_000, timeout_seconds=10)
    source = "\\section{Policy}\nOur quality policy.\n\\input{big}\n\\input{loop}\n"
    result = latex_in_a_worker(tmp_path, source, limits)
    assert "Our quality policy." in result.text and "Annex" not in result.text
    assert result.warnings == ("big.tex: not read (too large (58016 bytes > limit 10000 bytes))",
                               "\\input{loop}: file not found")


def test_latex_with_thousands_of_unclosed_brackets_is_read_in_time(tmp_path: Path) -> None:
    """An unclosed ``\\item[`` looped for ever, and each unclosed optional argument was looked for
    to the end of the source (quadratic): both were time-outs."""
    for name, junk in (("item", "\\item[" * 30_000), ("optional", "\\foo[" * 30_000), ("once", "\\item[oops ")):
        folder = tmp_path / name
        folder.mkdir()
        result = latex_in_a_worker(folder, f"\\section{{Audit}}\n{junk}\nFindings are recorded.\n")
        assert "Findings are recorded." in result.text, name


# --- PDF sections ----------------------------------------------------------------------------

_AUDITS = "Internal audits are planned once a year for every process of the quality management system. "
MANUAL = DocSpec(
    title="Quality Manual",
    parts=(
        Part("1 Scope", ("The system covers the design and manufacture of widgets.",)),
        Part("2 Internal audit", (_AUDITS * 45,)),
        Part("2.1 Audit programme", ("The programme lists every audit of the year.",), level=2),
        Part("2.2 Audit reports", ("Each audit ends with a report to management.",), level=2),
        Part("3 Management review", ("Top management reviews the system twice a year. " * 120,)),
        Part("4 Improvement", ("Nonconformities lead to corrective action.",)),
    ),
)
MANUAL_SECTIONS = [part.heading for part in MANUAL.parts]


def pdf_sections(path: Path) -> dict[str, str]:
    return {section.locator: section.text for section in readable(path).sections}


def heading_pages(path: Path) -> dict[str, int]:
    """Where each heading is printed, found independently: the first page whose text has it."""
    from pypdf import PdfReader

    pages = [page.extract_text().splitlines() for page in PdfReader(path).pages]
    return {heading: next(n for n, lines in enumerate(pages, 1) if heading in lines) for heading in MANUAL_SECTIONS}


@pytest.mark.parametrize("how", ["outline", "fonts"])
def test_pdf_sections_follow_the_headings_not_the_pages(tmp_path: Path, how: str) -> None:
    path = write_pdf_manual(tmp_path / "manual.pdf", MANUAL, outline=how == "outline",
                            heading_size=None if how == "outline" else 14)
    pages = heading_pages(path)
    assert max(pages.values()) >= 3 and pages["2.1 Audit programme"] == pages["2.2 Audit reports"]
    sections = pdf_sections(path)
    expected = [f"{heading} (p. {pages[heading]})" for heading in MANUAL_SECTIONS]
    assert [locator for locator in sections if locator not in ("page 1", "Quality Manual (p. 1)")] == expected
    audit = sections[f"2 Internal audit (p. {pages['2 Internal audit']})"]
    assert audit.startswith("2 Internal audit\nInternal audits are planned") and "programme" not in audit
    assert len(audit) > 3000  # the section runs on over the page break
    reports = sections[f"2.2 Audit reports (p. {pages['2.2 Audit reports']})"]
    assert reports == "2.2 Audit reports\nEach audit ends with a report to management."


def test_pdf_without_outline_or_heading_fonts_is_read_by_page(tmp_path: Path) -> None:
    path = write_pdf_manual(tmp_path / "plain.pdf", MANUAL, outline=False, heading_size=None)
    sections = pdf_sections(path)
    assert list(sections) == [f"page {n}" for n in range(1, len(sections) + 1)] and len(sections) >= 3
    assert "Nonconformities lead to corrective action." in "\n".join(sections.values())


def test_pdf_outline_is_read_to_its_useful_depth(tmp_path: Path) -> None:
    """A lone top entry (the document's title) is skipped, and a level whose titles repeat under
    every chapter ("Records") stays inside its chapter."""
    chapters = ("Document control", "Internal audit", "Corrective action", "Training")
    parts = [Part("Quality Manual")]
    for chapter in chapters:
        parts.append(Part(chapter, (f"How {chapter.lower()} works. " * 40,), level=2))
        parts.append(Part("Records", (f"Records of {chapter.lower()} are kept.",), level=3))
    path = write_pdf_manual(tmp_path / "nested.pdf", DocSpec("QM", tuple(parts)), heading_size=None)
    locators = [locator.split(" (p.")[0] for locator in pdf_sections(path)]
    assert locators == ["page 1", *chapters]


def test_a_large_running_header_is_not_a_heading(tmp_path: Path) -> None:
    path = write_pdf_manual(tmp_path / "headed.pdf", MANUAL, outline=False, running_header="ACME Widgets QMS")
    locators = [locator.split(" (p.")[0] for locator in pdf_sections(path)]
    assert "ACME Widgets QMS" not in locators
    assert locators[-len(MANUAL_SECTIONS):] == MANUAL_SECTIONS


def test_pdf_sections_respect_the_character_budget(tmp_path: Path) -> None:
    path = write_pdf_manual(tmp_path / "manual.pdf", MANUAL)
    result = readable(path, Limits(max_chars=2_000))
    assert len(result.text) <= 2_000 and "text truncated at 2,000 characters" in result.warnings


def test_normalised_text_is_the_same_whether_or_not_it_takes_the_one_line_shortcut() -> None:
    """A printable line without double spaces is only stripped; anything else goes through the
    full clean-up (control characters, lone surrogates, white space of every kind, line breaks)."""
    pieces = [*" \t\n\r\x00\x0b\x1f\x7f\xa0\u2028\u2029\u3000\u180e\ud800é’a", "  ", "ab", "x y"]
    rng = random.Random("normalise")
    for _ in range(50_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        cleaned = _CONTROLS.sub(" ", clean_text(text))
        lines = (_SPACES.sub(" ", line).strip() for line in cleaned.replace("\r", "\n").split("\n"))
        expected = "\n".join(line for line in lines if line)
        assert normalise(text) == expected, repr(text)
