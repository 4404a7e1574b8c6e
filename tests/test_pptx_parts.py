"""Presentations read from the parts the text is in (scanner/extract/pptx.py, opc.py) give what
python-pptx's own objects give: the same slides in the same order, titles, shapes, groups, tables and
notes, for a deck written here and for every presentation of the shared corpus.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pytest
from conftest import CORPUS
from lxml import etree
from pptx import Presentation
from pptx.enum.shapes import MSO_CONNECTOR
from pptx.util import Inches

from gapscan.scanner.common.documents import Extract, Section, Unreadable
from gapscan.scanner.extract import Limits
from gapscan.scanner.extract import pptx as slides_reader
from gapscan.scanner.extract.guards import Draft, Source
from packages import extracted, member, rewritten


def python_pptx_sections(data: bytes, limits: Limits = Limits()) -> tuple[Section, ...]:
    """A presentation's sections as python-pptx's objects give its text, collected as the reader
    collects them."""
    presentation = Presentation(io.BytesIO(data))
    draft = Draft(limits.max_chars, "slide 1")
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        draft.start(f"slide {number}: {title}" if title else f"slide {number}")
        add_shapes(draft, slide.shapes)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            draft.add(slide.notes_slide.notes_text_frame.text)
    return draft.sections()


def add_shapes(draft: Draft, shapes) -> None:
    for shape in shapes:
        if shape.shape_type is not None and shape.shape_type.name == "GROUP":
            add_shapes(draft, shape.shapes)
        elif shape.has_text_frame:
            draft.add(shape.text_frame.text)
        elif shape.has_table:
            for row in shape.table.rows:
                cells = (" ".join(cell.text.split()) for cell in row.cells)
                draft.add(" | ".join(text for text in cells if text))


def read_sections(data: bytes) -> tuple[Section, ...]:
    return slides_reader.read(Source("deck.pptx", data), "pptx", Limits()).sections()


@pytest.fixture(scope="module")
def review() -> bytes:
    """A title slide; a bulleted slide with a line break and a field; a slide of a group (a text
    box and a connector), a table with an empty cell and speaker notes; a slide without a title."""
    deck = Presentation()
    cover = deck.slides.add_slide(deck.slide_layouts[0])
    cover.shapes.title.text = "Management  review\n2026"
    cover.placeholders[1].text = "Quality department"
    agenda = deck.slides.add_slide(deck.slide_layouts[1])
    agenda.shapes.title.text = "Agenda"
    body = agenda.placeholders[1].text_frame
    body.text = "Audit results"
    paragraph = body.add_paragraph()
    paragraph.text = "Customer feedback"
    paragraph.add_line_break()
    paragraph.add_run().text = "and complaints"
    field = etree.SubElement(paragraph._p, "{http://schemas.openxmlformats.org/drawingml/2006/main}fld",
                             id="{5C2B1A3E-0000-4000-8000-000000000001}", type="slidenum")
    etree.SubElement(field, "{http://schemas.openxmlformats.org/drawingml/2006/main}t").text = "2"
    details = deck.slides.add_slide(deck.slide_layouts[5])
    details.shapes.title.text = "Actions"
    group = details.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1)).text_frame.text = "Owner: Quality Manager"
    group.shapes.add_connector(MSO_CONNECTOR.STRAIGHT, Inches(1), Inches(2), Inches(4), Inches(2))
    table = details.shapes.add_table(3, 3, Inches(1), Inches(3), Inches(6), Inches(2)).table
    for r, row in enumerate([("Action", "Owner", "Due"), ("Close NCR-7", "", "March"), ("", "", "")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    details.notes_slide.notes_text_frame.text = "Mention the supplier audit.\nAsk for resources."
    blank = deck.slides.add_slide(deck.slide_layouts[6])
    blank.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1)).text_frame.text = "Questions?"
    stream = io.BytesIO()
    deck.save(stream)
    return stream.getvalue()


def test_a_written_deck_reads_as_python_pptx_gives_it(review: bytes) -> None:
    sections = read_sections(review)
    assert sections == python_pptx_sections(review)
    assert [section.locator for section in sections] == [
        "slide 1: Management review 2026", "slide 2: Agenda", "slide 3: Actions", "slide 4"]
    assert sections[1].text.splitlines() == ["Agenda", "Audit results", "Customer feedback and complaints2"]
    assert sections[2].text.splitlines() == [
        "Actions", "Owner: Quality Manager", "Action | Owner | Due", "Close NCR-7 | March",
        "Mention the supplier audit.", "Ask for resources."]


def test_slides_are_read_in_the_presentation_s_order_not_their_part_names(review: bytes) -> None:
    presentation = etree.fromstring(member(review, "ppt/presentation.xml"))
    slide_ids = presentation.find("{http://schemas.openxmlformats.org/presentationml/2006/main}sldIdLst")
    first = slide_ids[0]
    slide_ids.remove(first)
    slide_ids.append(copy.deepcopy(first))
    reordered = rewritten(review, {"ppt/presentation.xml": etree.tostring(presentation)})
    sections = read_sections(reordered)
    assert sections == python_pptx_sections(reordered)
    assert sections[-1].locator == "slide 4: Management review 2026"


def test_a_macro_enabled_deck_is_read_and_a_workbook_named_pptx_is_refused(review: bytes, tmp_path: Path) -> None:
    content_types = member(review, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        b"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml")
    (tmp_path / "review.pptx").write_bytes(rewritten(review, {"[Content_Types].xml": content_types}))
    (tmp_path / "plan.pptx").write_bytes(member_workbook())
    read, refused = extracted(tmp_path / "review.pptx"), extracted(tmp_path / "plan.pptx")
    assert isinstance(read, Extract)
    assert read.sections == read_sections(review)
    assert isinstance(refused, Unreadable)
    assert refused.reason == ("not a PowerPoint presentation: its main part is "
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")


def member_workbook() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "Audit plan"
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def test_a_damaged_layout_leaves_the_deck_readable(review: bytes) -> None:
    damaged = rewritten(review, {"ppt/slideLayouts/slideLayout2.xml": b"<p:sldLayout"})
    with pytest.raises(etree.XMLSyntaxError):  # python-pptx parses every part as it opens the package
        python_pptx_sections(damaged)
    assert read_sections(damaged) == read_sections(review)


@pytest.mark.corpus
def test_every_presentation_of_the_shared_corpus_reads_as_python_pptx_gives_it() -> None:
    paths = sorted(CORPUS.rglob("*.pptx"))
    assert paths
    for path in paths:
        data = path.read_bytes()
        assert read_sections(data) == python_pptx_sections(data), path.relative_to(CORPUS)
