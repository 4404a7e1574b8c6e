"""Word documents (.docx, .docm): body paragraphs and tables in order, headers and footers.

Only the parts the text is in are opened: the main document, its headers and footers, and its style
sheet, whose heading styles are found by a pattern where it is written the usual way (python-docx
parses every part as it opens a package, a generated document's 350 KB style sheet among them,
which took most of a document's reading). Each part is parsed as python-docx parses it, and the text
is the text its objects give: a paragraph's from its XML, without its per-paragraph XPath queries,
and a table's with merged cells from python-docx's cell grid (tests compare both readers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from docx.table import Table
from lxml import etree

from gapscan.scanner.extract.guards import Draft, Limits, Refused, Source
from gapscan.scanner.extract.opc import RELATIONSHIP_TYPES, XML_PARSER, Package, Relationship

# A main document part of one of these types is a Word document: .docx, .docm, .dotx and .dotm.
_WORD_MAIN_PARTS = frozenset({
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
})
_STYLES = RELATIONSHIP_TYPES + "styles"


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    with Package(source) as package:
        partname, content_type = package.main_part()
        if content_type not in _WORD_MAIN_PARTS:
            raise Refused(f"not a Word document: its main part is {content_type or 'of no known type'}")
        document = parse_xml(package.read(partname))
        related = package.relationships(partname)
        # Headers and footers first: title blocks there often carry the effective or review date.
        draft = Draft(limits.max_chars, "header and footer")
        for line in _header_footer_lines(package, document, related):
            draft.add(line)
        draft.start("start")
        headings = _heading_style_ids(package, related)
        draft.metadata = package.properties()
    body = document.find(_BODY)
    for block in _blocks(body) if body is not None else ():
        if draft.full:
            break
        if block.tag == _TBL:
            for line in _table_lines(block):
                draft.add(line)
            continue
        text = paragraph_text(block)
        if _style_id(block) in headings and text.strip():
            draft.start(text, text)
        else:
            draft.add(text)
    return draft


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_BODY, _TBL, _P_PR, _P_STYLE = (qn(name) for name in ("w:body", "w:tbl", "w:pPr", "w:pStyle"))
_STYLE, _NAME, _VALUE, _STYLE_ID = (qn(name) for name in ("w:style", "w:name", "w:val", "w:styleId"))
_TR, _TC, _GRID_SPAN, _VERTICAL_MERGE = (qn(name) for name in ("w:tr", "w:tc", "w:gridSpan", "w:vMerge"))


def _blocks(container: etree._Element) -> Iterator[etree._Element]:
    """A body's, header's or footer's paragraphs and tables, in order (python-docx's inner content)."""
    return container.iterchildren(_P, _TBL)


def _style_id(paragraph: etree._Element) -> str | None:
    properties = paragraph.find(_P_PR)
    style = properties.find(_P_STYLE) if properties is not None else None
    return style.get(_VALUE) if style is not None else None


def _heading_style_ids(package: Package, related: dict[str, Relationship]) -> frozenset[str]:
    """Ids of the Title and Heading n styles. Without a style sheet there are none (python-docx
    then uses its default one, which has none either)."""
    target = next((r.target for r in related.values() if r.type == _STYLES), None)
    if target is None:
        return frozenset()
    data = package.read(target)
    if len(data) <= _REMEMBERED_STYLE_SHEET_BYTES:
        return _remembered_heading_style_ids(data)
    return _read_heading_style_ids(data)


# Documents made from one template share its style sheet byte for byte (all 293 generated ones,
# 350 KB each): a worker finds the headings of the last few it met again at the cost of comparing
# the bytes (a tenth of a millisecond instead of over one).
_REMEMBERED_STYLE_SHEET_BYTES = 1024 * 1024


@lru_cache(maxsize=8)
def _remembered_heading_style_ids(data: bytes) -> frozenset[str]:
    return _read_heading_style_ids(data)


def _read_heading_style_ids(data: bytes) -> frozenset[str]:
    plain = _plain_heading_style_ids(data)
    if plain is not None:
        return plain
    ids = set()
    for style in etree.fromstring(data, XML_PARSER).iterchildren(_STYLE):
        name_element = style.find(_NAME)
        # Lower-cased, the name in the file is the UI name (they differ in case only).
        name = (name_element.get(_VALUE) or "").lower() if name_element is not None else ""
        style_id = style.get(_STYLE_ID)
        if style_id and (name == "title" or name.startswith("heading")):
            ids.add(style_id)
    return frozenset(ids)


# A style sheet written the usual way (Word, LibreOffice, python-docx, the Open XML SDK with its
# byte order mark): the main namespace bound to the prefix w once, at the root; no comment, CDATA
# section or processing instruction; each style's start tag with its id, in double quotes without
# references, and its name as its first child.
_STYLES_ROOT = re.compile(
    rb'(?:\xef\xbb\xbf)?(?:<\?xml[^<>]*\?>)?\s*<w:styles(?=\s)[^<>]*\sxmlns:w="' + _W.encode() + b'"'
)
_ANY_STYLE = re.compile(rb"<w:style[\s/>]")
_ATTRIBUTE = rb'\s+[\w:.-]+="[^"<>&]*"'
_PLAIN_STYLE = re.compile(
    rb"<w:style(?:" + _ATTRIBUTE + rb')*?\s+w:styleId="([^"<>&]*)"(?:' + _ATTRIBUTE + rb")*\s*>"
    rb'\s*<w:name\s+w:val="([^"<>&]*)"\s*/>'
)


def _plain_heading_style_ids(data: bytes) -> frozenset[str] | None:
    """The heading style ids of a style sheet written the usual way, found by patterns (an XML tree
    of a large style sheet costs many times as much); None for any other, which lxml reads."""
    if not _STYLES_ROOT.match(data) or data.count(b"xmlns:w=") != 1 or data.count(b"<?") > 1:
        return None
    if b"<!--" in data or b"<![CDATA[" in data:
        return None
    styles = _PLAIN_STYLE.findall(data)
    if len(styles) != len(_ANY_STYLE.findall(data)):
        return None
    ids = set()
    for style_id, name in styles:
        lowered = name.decode("utf-8", "replace").lower()
        if style_id and (lowered == "title" or lowered.startswith("heading")):
            ids.add(style_id.decode("utf-8", "replace"))
    return frozenset(ids)


def _table_lines(table: etree._Element) -> list[str]:
    """Each row's cells, `` | ``-separated. python-docx places the cells of a table with merged
    cells (one per grid column a cell spans, a vertically merged cell's from the row it starts in);
    in a table without, each row's cells are its w:tc elements, read as they are."""
    if next(table.iter(_GRID_SPAN, _VERTICAL_MERGE), None) is not None:
        grid = Table(table, None)  # type: ignore[arg-type]  # parsed by python-docx; its cells need no part
        return [" | ".join(_row_cells(cell._tc for cell in row.cells)) for row in grid.rows]
    return [" | ".join(_row_cells(row.iterchildren(_TC))) for row in table.iterchildren(_TR)]


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


_SECTION_PROPERTIES = etree.XPath("./w:body/w:p/w:pPr/w:sectPr | ./w:body/w:sectPr", namespaces={"w": _W})
_HEADER, _FOOTER = qn("w:headerReference"), qn("w:footerReference")
# python-docx's order: each section's header, first-page header, even-page header, then footers.
_HEADERS_AND_FOOTERS = [(tag, kind) for tag in (_HEADER, _FOOTER) for kind in ("default", "first", "even")]
_REFERENCE_TYPE, _REFERENCE_ID = qn("w:type"), qn("r:id")


def _header_footer_lines(package: Package, document: etree._Element, related: dict[str, Relationship]) -> list[str]:
    lines: dict[str, None] = {}  # ordered and unique: each section repeats the same header
    parts: dict[str, etree._Element] = {}
    for properties in _SECTION_PROPERTIES(document):
        for tag, kind in _HEADERS_AND_FOOTERS:
            # A header or footer without a reference of its own is linked to the previous section's.
            reference = next((r for r in properties.iterchildren(tag) if r.get(_REFERENCE_TYPE) == kind), None)
            relationship = related.get(reference.get(_REFERENCE_ID, "")) if reference is not None else None
            if relationship is None:
                continue
            if relationship.target not in parts:
                parts[relationship.target] = parse_xml(package.read(relationship.target))
            for block in _blocks(parts[relationship.target]):
                if block.tag == _TBL:
                    lines.update(dict.fromkeys(_table_lines(block)))
                else:
                    lines[paragraph_text(block)] = None
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

