"""Word documents (.docx, .docm): body paragraphs and tables in order, headers and footers.

python-docx finds the parts, the blocks in order and the cells of each table row (merged cells);
the text of each paragraph is read here from its XML, to the same text python-docx's
``Paragraph.text`` gives, without its per-paragraph XPath queries (most of the time it took).
"""

from __future__ import annotations

from collections.abc import Iterable

import docx
from docx.document import Document as WordDocument
from docx.oxml.ns import qn
from docx.table import Table
from lxml import etree

from gapscan.scanner.extract.guards import Draft, Limits, Source, office_properties


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    document = docx.Document(source.stream())
    # Headers and footers first: title blocks there often carry the effective or review date.
    draft = Draft(limits.max_chars, "header and footer")
    for line in _header_footer_lines(document):
        draft.add(line)
    draft.start("start")
    headings = _heading_style_ids(document)
    for block in document.iter_inner_content():
        if draft.full:
            break
        if isinstance(block, Table):
            _add_table(draft, block)
            continue
        text = paragraph_text(block._p)
        if block._p.style in headings and text.strip():
            draft.start(text, text)
        else:
            draft.add(text)
    draft.metadata = office_properties(source)
    return draft


_STYLE, _NAME, _VALUE, _STYLE_ID = (qn(name) for name in ("w:style", "w:name", "w:val", "w:styleId"))
_TR, _TC, _GRID_SPAN, _VERTICAL_MERGE = (qn(name) for name in ("w:tr", "w:tc", "w:gridSpan", "w:vMerge"))


def _heading_style_ids(document: WordDocument) -> set[str]:
    """Ids of the Title and Heading n styles, read from the style sheet's XML (python-docx's
    ``Paragraph.style`` scans the style sheet each time it is asked, and building a ``Style``
    object per style to ask its name costs more than reading the attributes)."""
    ids = set()
    for style in document.styles.element.iterchildren(_STYLE):
        name_element = style.find(_NAME)
        # Lower-cased, the name in the file is the UI name (they differ in case only).
        name = (name_element.get(_VALUE) or "").lower() if name_element is not None else ""
        style_id = style.get(_STYLE_ID)
        if style_id and (name == "title" or name.startswith("heading")):
            ids.add(style_id)
    return ids


def _add_table(draft: Draft, table: Table) -> None:
    for line in _table_lines(table):
        draft.add(line)


def _table_lines(table: Table) -> list[str]:
    """Each row's cells, `` | ``-separated. python-docx places the cells of a table with merged
    cells (one per grid column a cell spans, a vertically merged cell's from the row it starts in);
    in a table without, each row's cells are its w:tc elements, read as they are."""
    if next(table._tbl.iter(_GRID_SPAN, _VERTICAL_MERGE), None) is not None:
        return [" | ".join(_row_cells(cell._tc for cell in row.cells)) for row in table.rows]
    return [" | ".join(_row_cells(row.iterchildren(_TC))) for row in table._tbl.iterchildren(_TR)]


def _row_cells(cells: Iterable[etree._Element]) -> list[str]:
    """The text of each distinct cell (w:tc); a merged cell appears once per grid column it spans."""
    texts: list[str] = []
    previous = None
    for cell in cells:
        if cell is not previous:
            text = " ".join(_cell_text(cell).split())
            if text:
                texts.append(text)
        previous = cell
    return texts


def _header_footer_lines(document: WordDocument) -> list[str]:
    lines: dict[str, None] = {}  # ordered and unique: each section repeats the same header
    for section in document.sections:
        for part in (
            section.header,
            section.first_page_header,
            section.even_page_header,
            section.footer,
            section.first_page_footer,
            section.even_page_footer,
        ):
            if part.is_linked_to_previous:  # no definition of its own
                continue
            for block in part.iter_inner_content():
                if isinstance(block, Table):
                    lines.update(dict.fromkeys(_table_lines(block)))
                else:
                    lines[paragraph_text(block._p)] = None
    return list(lines)


_P, _R, _HYPERLINK = qn("w:p"), qn("w:r"), qn("w:hyperlink")
_BREAK, _BREAK_TYPE = qn("w:br"), qn("w:type")
# What each text-bearing element of a run stands for (w:t is its text, w:br depends on its type).
_RUN_TEXT = {qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-", qn("w:ptab"): "\t", qn("w:tab"): "\t"}
_TEXT = qn("w:t")


def paragraph_text(paragraph: etree._Element) -> str:
    """A paragraph's text: its runs, and those of its hyperlinks, in order (as python-docx has it:
    a line break or carriage return is a new line, a page or column break nothing)."""
    parts: list[str] = []
    for child in paragraph:
        if child.tag == _R:
            _add_run(parts, child)
        elif child.tag == _HYPERLINK:
            for run in child:
                if run.tag == _R:
                    _add_run(parts, run)
    return "".join(parts)


def _add_run(parts: list[str], run: etree._Element) -> None:
    for element in run:
        tag = element.tag
        if tag == _TEXT:
            parts.append(element.text or "")
        elif tag == _BREAK:
            if element.get(_BREAK_TYPE, "textWrapping") == "textWrapping":
                parts.append("\n")
        elif tag in _RUN_TEXT:
            parts.append(_RUN_TEXT[tag])


def _cell_text(cell: etree._Element) -> str:
    """A table cell's text: its own paragraphs (not those of a table inside it), one per line."""
    return "\n".join(paragraph_text(paragraph) for paragraph in cell if paragraph.tag == _P)

