"""OpenDocument files (.odt, .ods, .odp), read from content.xml and meta.xml with defusedxml."""

from __future__ import annotations

import re
import zipfile
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from gapscan.scanner.common.documents import Metadata
from gapscan.scanner.extract.guards import Draft, Limits, Refused, Source, field_text

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}


def _tag(qualified: str) -> str:
    prefix, name = qualified.split(":")
    return f"{{{_NS[prefix]}}}{name}"


_P, _H, _SPACE, _TAB, _BREAK = (_tag(f"text:{n}") for n in ("p", "h", "s", "tab", "line-break"))
_TABLE, _ROW, _CELL = (_tag(f"table:{n}") for n in ("table", "table-row", "table-cell"))
_PAGE, _FRAME = _tag("draw:page"), _tag("draw:frame")
_BODY = {"odt": "office:text", "ods": "office:spreadsheet", "odp": "office:presentation"}
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?")


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    with zipfile.ZipFile(source.stream()) as archive:
        names = set(archive.namelist())
        if "META-INF/manifest.xml" in names and _encrypted(archive.read("META-INF/manifest.xml")):
            raise Refused("encrypted (password-protected OpenDocument file)")
        if "content.xml" not in names:
            raise Refused(f"corrupt: not a valid .{fmt} file (no content.xml)")
        content = fromstring(archive.read("content.xml"))
        meta = fromstring(archive.read("meta.xml")) if "meta.xml" in names else None
    body = content.find(f"office:body/{_BODY[fmt]}", _NS)
    draft = Draft(limits.max_chars, "start")
    if body is not None:
        if fmt == "odt":
            _walk(draft, body)
        elif fmt == "ods":
            _sheets(draft, body)
        else:
            _slides(draft, body)
    draft.metadata = _metadata(meta)
    return draft


def _encrypted(manifest: bytes) -> bool:
    return fromstring(manifest).find(".//manifest:encryption-data", _NS) is not None


def _walk(draft: Draft, element: Element) -> None:
    """Paragraphs, headings and tables in document order, through any container (lists, frames)."""
    for child in element:
        if draft.full:
            return
        if child.tag == _H:
            heading = _text(child)
            if heading.strip():
                draft.start(heading, heading)
        elif child.tag == _P:
            draft.add(_text(child))
        elif child.tag == _TABLE:
            _rows(draft, child)
        else:
            _walk(draft, child)


def _sheets(draft: Draft, body: Element) -> None:
    for sheet in body.iter(_TABLE):
        if draft.full:
            return
        name = sheet.get(_tag("table:name"), "")
        draft.start(f"sheet {name}", label=name)
        _rows(draft, sheet)


def _slides(draft: Draft, body: Element) -> None:
    for number, page in enumerate(body.iter(_PAGE), start=1):
        if draft.full:
            return
        title = next(
            (
                " ".join(_text(frame).split())
                for frame in page.iter(_FRAME)
                if frame.get(_tag("presentation:class")) == "title"
            ),
            "",
        )
        draft.start(f"slide {number}: {title}" if title else f"slide {number}")
        _walk(draft, page)


def _rows(draft: Draft, table: Element) -> None:
    # Repeated rows and cells (table:number-rows-repeated) are read once: a sheet often "repeats"
    # an empty row a million times.
    for row in table.iter(_ROW):
        cells = (" ".join(_text(cell).split()) for cell in row.iter(_CELL))
        draft.add(" | ".join(text for text in cells if text))
        if draft.full:
            return


def _text(element: Element) -> str:
    """The text of a paragraph-like element, with ODF's encoded spaces, tabs and line breaks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in (_SPACE, _TAB):  # the run length does not matter once spaces collapse
            parts.append(" ")
        elif child.tag == _BREAK:
            parts.append("\n")
        elif child.tag in (_P, _H):
            parts.append("\n" + _text(child))
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _metadata(meta: Element | None) -> Metadata:
    if meta is None:
        return Metadata()

    def field(name: str) -> str:
        found = meta.find(f"office:meta/{name}", _NS)
        return field_text(found.text) if found is not None else ""

    def timestamp(name: str) -> str:
        match = _ISO.match(field(name))
        return match.group(0) if match else ""

    return Metadata(
        title=field("dc:title"),
        author=field("meta:initial-creator") or field("dc:creator"),
        created=timestamp("meta:creation-date"),
        modified=timestamp("dc:date"),
    )
