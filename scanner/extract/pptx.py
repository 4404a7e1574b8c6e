"""PowerPoint presentations (.pptx): one section per slide, with its tables and speaker notes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from pptx import Presentation
from pptx.shapes.autoshape import Shape
from pptx.shapes.base import BaseShape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape

from gapscan.scanner.extract.guards import Draft, Limits, Source, office_properties


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    presentation = Presentation(source.stream())
    draft = Draft(limits.max_chars, "slide 1")
    for number, slide in enumerate(presentation.slides, start=1):
        if draft.full:
            break
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        draft.start(f"slide {number}: {title}" if title else f"slide {number}")
        _add_shapes(draft, slide.shapes)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            draft.add(slide.notes_slide.notes_text_frame.text)
    draft.metadata = office_properties(source)
    return draft


def _add_shapes(draft: Draft, shapes: Iterable[BaseShape]) -> None:
    for shape in shapes:
        if isinstance(shape, GroupShape):
            _add_shapes(draft, shape.shapes)
        elif shape.has_text_frame:  # only a Shape has one
            draft.add(cast(Shape, shape).text_frame.text)
        elif shape.has_table:  # only a GraphicFrame has one
            for row in cast(GraphicFrame, shape).table.rows:
                cells = (" ".join(cell.text.split()) for cell in row.cells)
                draft.add(" | ".join(text for text in cells if text))
