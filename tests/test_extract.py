"""Extraction of every format from generated documents, and of broken and hostile files."""

from __future__ import annotations

import hashlib
import os
import random
import zipfile
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from pebble import ProcessExpired

from fixtures.documents import (
    DocSpec,
    Part,
    Table,
    write_document,
    write_encrypted_pdf,
    write_ole_encrypted,
    write_slow_pdf,
    write_truncated,
    write_zip_bomb_docx,
)
from gapscan.scanner.documents import (
    Document,
    Extract,
    ExtractResult,
    Section,
    Unreadable,
    format_of,
)
from gapscan.scanner.extract import Known, Limits, _outcome, extract_all, extract_file
from gapscan.scanner.extract.dates import dates_in_text

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
    ".xlsx": (SHEETS, True),
    ".ods": (SHEETS, True),
    ".pdf": (["page 1", "page 2", "page 3"], True),
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


def test_hung_extraction_times_out_and_the_rest_goes_on(tmp_path: Path) -> None:
    # Real hostile input: pypdf needs many seconds for this page's inflated content stream.
    slow = write_slow_pdf(tmp_path / "slow.pdf")
    fast = write_document(tmp_path / "fast.md", SPEC)
    jobs = [(slow, document_for(slow)), (fast, document_for(fast))]
    results = {r.document.path: r for r in extract_all(jobs, Limits(timeout_seconds=1), 1)}
    assert results["slow.pdf"] == Unreadable(document_for(slow), "timed out after 1 s")
    assert isinstance(results["fast.md"], Extract)


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
