"""Word documents read from the parts the text is in (scanner/extract/docx.py, opc.py) give what
python-docx's own objects give: the same header and footer lines, sections, headings and table rows,
for documents written here and for every Word document of the shared corpus. The style sheet's
heading styles are found by patterns only where it is written the usual way.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from conftest import CORPUS
from docx.enum.section import WD_SECTION
from docx.table import Table
from lxml import etree
from openpyxl import Workbook

from gapscan.scanner.common.documents import Extract, Section, Unreadable
from gapscan.scanner.extract import Limits
from gapscan.scanner.extract import docx as word_reader
from gapscan.scanner.extract.guards import Draft, Source
from packages import extracted, member, rewritten


def python_docx_sections(data: bytes, limits: Limits = Limits()) -> tuple[Section, ...]:
    """A document's sections as python-docx's objects give its text (Paragraph.text, the cells of a
    row, each section's own headers and footers, a paragraph's style by name), collected as the
    reader collects them."""
    document = docx.Document(io.BytesIO(data))
    lines: dict[str, None] = {}
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.even_page_header,
                     section.footer, section.first_page_footer, section.even_page_footer):
            if part.is_linked_to_previous:
                continue
            for block in part.iter_inner_content():
                lines.update(dict.fromkeys(table_lines(block) if isinstance(block, Table) else [block.text]))
    draft = Draft(limits.max_chars, "header and footer")
    for line in lines:
        draft.add(line)
    draft.start("start")
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for line in table_lines(block):
                draft.add(line)
            continue
        name = (block.style.name or "").lower() if block.style is not None else ""
        if (name == "title" or name.startswith("heading")) and block.text.strip():
            draft.start(block.text, block.text)
        else:
            draft.add(block.text)
    return draft.sections()


def table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        texts, previous = [], None
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if cell._tc is not previous and text:
                texts.append(text)
            previous = cell._tc
        lines.append(" | ".join(texts))
    return lines


def read_sections(data: bytes) -> tuple[Section, ...]:
    return word_reader.read(Source("document.docx", data), "docx", Limits()).sections()


@pytest.fixture(scope="module")
def manual() -> bytes:
    """Headings and a title, runs with tabs and line breaks, a plain and a merged table, and three
    sections: the first with its own header (a paragraph and a table), first-page header and
    even-page header, the second linked to the first, the third with a footer of its own."""
    document = docx.Document()
    document.settings.odd_and_even_pages_header_footer = True
    first = document.sections[0]
    first.different_first_page_header_footer = True
    first.header.paragraphs[0].text = "QM-001 Quality manual | Rev 4"
    first.header.add_table(rows=1, cols=2, width=first.page_width).rows[0].cells[0].text = "Effective 01/03/2024"
    first.first_page_header.paragraphs[0].text = "Cover page"
    first.even_page_header.paragraphs[0].text = "Even pages"
    document.add_paragraph("Quality manual", style="Title")
    document.add_heading("Scope", level=1)
    paragraph = document.add_paragraph("The system covers design\tand ")
    paragraph.add_run("production.").add_break()
    paragraph.add_run("Service is excluded.")
    document.add_heading("Records", level=2)
    plain = document.add_table(rows=2, cols=3)
    for row, values in zip(plain.rows, [("Record", "Owner", "Kept"), ("Audit plan", "", "3 years")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    merged = document.add_table(rows=3, cols=3)
    for r, row in enumerate(merged.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"r{r}c{c}"
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Across"
    merged.cell(1, 2).merge(merged.cell(2, 2)).text = "Down"
    document.add_section(WD_SECTION.NEW_PAGE)
    document.add_heading("Appendix A", level=1)
    document.add_paragraph("Linked to the first section's header.")
    third = document.add_section(WD_SECTION.NEW_PAGE)
    third.footer.is_linked_to_previous = False
    third.footer.paragraphs[0].text = "Appendix footer"
    document.add_heading("", level=1)  # an empty heading starts no section
    document.add_paragraph("Last words.")
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def test_a_written_manual_reads_as_python_docx_gives_it(manual: bytes) -> None:
    sections = read_sections(manual)
    assert sections == python_docx_sections(manual)
    assert sections[0] == Section("header and footer", "\n".join([
        "QM-001 Quality manual | Rev 4", "Effective 01/03/2024", "Cover page", "Even pages", "Appendix footer"]))
    assert [section.locator for section in sections[1:]] == ["Quality manual", "Scope", "Records", "Appendix A"]
    assert sections[2].text.splitlines() == [
        "Scope", "The system covers design and production.", "Service is excluded."]
    assert sections[3].text.splitlines()[1:] == [
        "Record | Owner | Kept", "Audit plan | 3 years", "Across | r0c2", "r1c0 | r1c1 | Down", "r2c0 | r2c1 | Down"]
    assert sections[4].text.splitlines()[-1] == "Last words."


@pytest.mark.parametrize("change", [
    pytest.param(lambda styles: styles.replace(b"<w:docDefaults>", b"<!-- Word --><w:docDefaults>"), id="comment"),
    pytest.param(lambda styles: styles.replace(
        b'w:styleId="Heading1">', b'w:styleId="Heading1"><w:aliases w:val="H1"/>'), id="name-not-first"),
    pytest.param(lambda styles: styles.replace(b'w:styleId="Heading2"', b"w:styleId='Heading2'"), id="single-quotes"),
    pytest.param(lambda styles: styles.replace(b'w:styleId="Title"', b'w:styleId="&#84;itle"'), id="reference"),
])
def test_a_style_sheet_written_otherwise_is_read_by_lxml_to_the_same_headings(manual: bytes, change) -> None:
    styles = member(manual, "word/styles.xml")
    assert word_reader._plain_heading_style_ids(styles) is not None
    assert word_reader._plain_heading_style_ids(change(styles)) is None
    changed = rewritten(manual, {"word/styles.xml": change(styles)})
    assert read_sections(changed) == read_sections(manual) == python_docx_sections(changed)


def test_the_style_patterns_find_every_heading_style_python_docx_names(manual: bytes) -> None:
    """Also where the root declares the main namespace first, or a byte order mark comes first."""
    named = {style.style_id for style in docx.Document(io.BytesIO(manual)).styles
             if (style.name or "").lower() == "title" or (style.name or "").lower().startswith("heading")}
    assert {"Title", "Heading1", "Heading9", "Heading1Char"} <= named
    styles = member(manual, "word/styles.xml")
    assert word_reader._plain_heading_style_ids(styles) == named
    declaration = b' xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    first = styles.replace(declaration, b"").replace(b"<w:styles ", b"<w:styles" + declaration + b" ")
    assert first != styles
    assert word_reader._plain_heading_style_ids(first) == named
    assert word_reader._plain_heading_style_ids(b"\xef\xbb\xbf" + styles) == named


def test_a_document_without_a_style_sheet_has_no_headings(manual: bytes) -> None:
    relationships = re.sub(rb"<Relationship [^>]*relationships/styles\"[^>]*/>", b"",
                           member(manual, "word/_rels/document.xml.rels"))
    without = rewritten(manual, {"word/styles.xml": None, "word/_rels/document.xml.rels": relationships})
    sections = read_sections(without)
    assert sections == python_docx_sections(without)
    assert [section.locator for section in sections] == ["header and footer", "start"]


def test_documents_from_other_templates_read_in_turn_each_keep_their_own_headings(manual: bytes) -> None:
    """A worker remembers the headings of style sheets it met: one that differs in a style's name
    only is another style sheet."""
    styles = member(manual, "word/styles.xml")
    renamed = rewritten(manual, {"word/styles.xml": styles.replace(b'w:val="heading 2"', b'w:val="Appendix"')})
    locators = [[section.locator for section in read_sections(data)] for data in (manual, renamed, manual)]
    assert "Records" in locators[0]
    assert "Records" not in locators[1]
    assert locators[2] == locators[0]
    assert read_sections(renamed) == python_docx_sections(renamed)


def test_a_macro_enabled_document_is_read(manual: bytes, tmp_path: Path) -> None:
    """python-docx refuses a .docm's main part type; its text is read all the same."""
    content_types = member(manual, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml")
    path = tmp_path / "audit-tools.docm"
    path.write_bytes(rewritten(manual, {"[Content_Types].xml": content_types}))
    result = extracted(path)
    assert isinstance(result, Extract)
    assert result.sections[1:] == read_sections(manual)[1:]
    with pytest.raises(ValueError, match="not a Word file"):
        docx.Document(str(path))


def test_a_workbook_named_docx_and_a_package_without_its_document_are_refused(manual: bytes, tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active["A1"] = "Audit plan"
    workbook.save(tmp_path / "plan.docx")
    (tmp_path / "broken.docx").write_bytes(rewritten(manual, {"word/document.xml": None}))
    results = [extracted(tmp_path / name) for name in ("plan.docx", "broken.docx")]
    assert [result.reason for result in results if isinstance(result, Unreadable)] == [
        "not a Word document: its main part is "
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "corrupt: part /word/document.xml is missing",
    ]


def test_a_damaged_part_the_text_is_not_in_leaves_the_document_readable(manual: bytes) -> None:
    damaged = rewritten(manual, {"word/settings.xml": b"<w:settings", "word/theme/theme1.xml": b"\x00"})
    with pytest.raises(etree.XMLSyntaxError):  # python-docx parses every part as it opens the package
        python_docx_sections(damaged)
    assert read_sections(damaged) == read_sections(manual)


@pytest.mark.corpus
def test_every_word_document_of_the_shared_corpus_reads_as_python_docx_gives_it() -> None:
    paths = sorted(CORPUS.rglob("*.docx"))
    assert paths
    for path in paths:
        data = path.read_bytes()
        assert read_sections(data) == python_docx_sections(data), path.relative_to(CORPUS)
