"""Word documents (.docx, .docm): body paragraphs and tables in order, headers and footers."""

from __future__ import annotations

from collections.abc import Iterable

import docx
from docx.document import Document as WordDocument
from docx.table import Table, _Cell

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
        elif block._p.style in headings and block.text.strip():
            draft.start(block.text, block.text)
        else:
            draft.add(block.text)
    draft.metadata = office_properties(source)
    return draft


def _heading_style_ids(document: WordDocument) -> set[str]:
    """Ids of the Title and Heading n styles (python-docx's ``Paragraph.style`` is too slow to
    ask per paragraph: it scans the style sheet each time)."""
    ids = set()
    for style in document.styles:
        name = (style.name or "").lower()
        if style.style_id and (name == "title" or name.startswith("heading")):
            ids.add(style.style_id)
    return ids


def _add_table(draft: Draft, table: Table) -> None:
    for row in table.rows:
        draft.add(" | ".join(_row_cells(row.cells)))


def _row_cells(cells: Iterable[_Cell]) -> list[str]:
    """The text of each distinct cell; a merged cell appears once per grid column it spans."""
    texts: list[str] = []
    previous = None
    for cell in cells:
        if cell._tc is not previous:
            text = " ".join(cell.text.split())
            if text:
                texts.append(text)
        previous = cell._tc
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
                    for row in block.rows:
                        lines[" | ".join(_row_cells(row.cells))] = None
                else:
                    lines[block.text] = None
    return list(lines)

