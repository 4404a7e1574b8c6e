"""PowerPoint presentations (.pptx): one section per slide, with its tables and speaker notes.

Only the presentation, its slides and their notes are opened (python-pptx parses every part of the
package as it opens it, each slide's layout and master among them, and builds an object per shape
and per paragraph: most of a presentation's reading). The text is the text python-pptx's objects
give, read from the same XML parsed with the same options (tests compare both readers): a slide's
title is its title placeholder's, then every shape with a text frame, every table row and the
notes' body placeholder, in order, a group's shapes where the group stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

from gapscan.scanner.extract.guards import Draft, Limits, Refused, Source
from gapscan.scanner.extract.opc import RELATIONSHIP_TYPES, XML_PARSER, Package

# A main part of one of these types is a presentation: .pptx, .pptm, .ppsx, .ppsm, .potx, .potm.
_PRESENTATION_MAIN_PARTS = frozenset({
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
})
_NOTES_SLIDE = RELATIONSHIP_TYPES + "notesSlide"
_P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SHAPE, _GROUP, _GRAPHIC_FRAME = f"{_P}sp", f"{_P}grpSp", f"{_P}graphicFrame"
# The elements python-pptx makes a shape of, in a slide's shape tree or a group.
_SHAPES = (_SHAPE, _GROUP, _GRAPHIC_FRAME, f"{_P}cxnSp", f"{_P}pic", f"{_P}contentPart")
_TABLE_DATA = "http://schemas.openxmlformats.org/drawingml/2006/table"
_RUN, _BREAK, _FIELD, _TEXT = f"{_A}r", f"{_A}br", f"{_A}fld", f"{_A}t"


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    draft = Draft(limits.max_chars, "slide 1")
    with Package(source) as package:
        partname, content_type = package.main_part()
        if content_type not in _PRESENTATION_MAIN_PARTS:
            raise Refused(f"not a PowerPoint presentation: its main part is {content_type or 'of no known type'}")
        for number, slide_name in enumerate(_slide_names(package, partname), start=1):
            if draft.full:
                break
            shapes = _shape_tree(package, slide_name)
            title_shape = _first_placeholder(shapes, _is_title)
            title = " ".join(_frame_text(title_shape).split()) if title_shape is not None else ""
            draft.start(f"slide {number}: {title}" if title else f"slide {number}")
            _add_shapes(draft, shapes)
            notes = _notes_body(package, slide_name)
            if notes is not None:
                draft.add(_frame_text(notes))
        draft.metadata = package.properties()
    return draft


def _slide_names(package: Package, presentation: str) -> list[str]:
    """The slides' part names in the presentation's order (its slide id list)."""
    related = package.relationships(presentation)
    root = etree.fromstring(package.read(presentation), XML_PARSER)
    slides = root.find(f"{_P}sldIdLst")
    references = (entry.get(_R_ID, "") for entry in slides.iterchildren(f"{_P}sldId")) if slides is not None else ()
    return [related[reference].target for reference in references if reference in related]


def _shape_tree(package: Package, partname: str) -> etree._Element | None:
    return etree.fromstring(package.read(partname), XML_PARSER).find(f"{_P}cSld/{_P}spTree")


def _shapes(container: etree._Element | None) -> Iterator[etree._Element]:
    return container.iterchildren(*_SHAPES) if container is not None else iter(())


def _first_placeholder(
    container: etree._Element | None, wanted: Callable[[etree._Element], bool]
) -> etree._Element | None:
    """The first shape that is a placeholder whose p:ph element (in the shape's first child's, its
    non-visual properties', p:nvPr) is ``wanted``."""
    for shape in _shapes(container):
        properties = next(shape.iterchildren(), None)
        settings = properties.find(f"{_P}nvPr") if properties is not None else None
        placeholder = settings.find(f"{_P}ph") if settings is not None else None
        if placeholder is not None and wanted(placeholder):
            return shape
    return None


def _is_title(placeholder: etree._Element) -> bool:
    """A slide's title is its first placeholder of index 0 (the index a placeholder has by default)."""
    try:
        return int(placeholder.get("idx", "0")) == 0
    except ValueError:
        return False


def _notes_body(package: Package, slide: str) -> etree._Element | None:
    """The body placeholder of the slide's notes page, if it has one."""
    notes = next((r.target for r in package.relationships(slide).values() if r.type == _NOTES_SLIDE), None)
    tree = _shape_tree(package, notes) if notes is not None else None
    return _first_placeholder(tree, lambda placeholder: placeholder.get("type") == "body")


def _add_shapes(draft: Draft, container: etree._Element | None) -> None:
    for shape in _shapes(container):
        if shape.tag == _GROUP:
            _add_shapes(draft, shape)
        elif shape.tag == _SHAPE:
            draft.add(_frame_text(shape))
        elif shape.tag == _GRAPHIC_FRAME:
            table = shape.find(f"{_A}graphic/{_A}graphicData[@uri='{_TABLE_DATA}']/{_A}tbl")
            for row in table.iterchildren(f"{_A}tr") if table is not None else ():
                cells = (" ".join(_frame_text(cell).split()) for cell in row.iterchildren(f"{_A}tc"))
                draft.add(" | ".join(text for text in cells if text))


def _frame_text(element: etree._Element) -> str:
    """A shape's or a table cell's text: its paragraphs, one per line, a line break a vertical tab
    (as python-pptx gives it); "" for a shape without a text body (a picture, a chart)."""
    body = element.find(f"{_P}txBody")
    if body is None:
        body = element.find(f"{_A}txBody")
    if body is None:
        return ""
    return "\n".join(_paragraph_text(paragraph) for paragraph in body.iterchildren(f"{_A}p"))


def _paragraph_text(paragraph: etree._Element) -> str:
    parts = []
    for child in paragraph.iterchildren(_RUN, _BREAK, _FIELD):
        if child.tag == _BREAK:
            parts.append("\v")
        else:
            text = child.find(_TEXT)
            parts.append((text.text or "") if text is not None else "")
    return "".join(parts)
