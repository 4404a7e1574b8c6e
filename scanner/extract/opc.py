"""The parts of an Office Open XML package (a .docx, .pptx or .xlsx zip) and how they relate: the main
part and its content type, the parts a part refers to, a part's bytes, the core properties.

python-docx and python-pptx parse every XML part of a package as they open it (a Word document's
350 KB style sheet, its numbering, settings, fonts and theme); a reader that needs three parts of
twenty finds them here and parses those. Part names and relationship targets are resolved as those
libraries resolve them, so both read the same parts.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from defusedxml.ElementTree import fromstring
from lxml import etree

from gapscan.scanner.common.documents import Metadata
from gapscan.scanner.extract.guards import Refused, Source, field_text, iso_datetime

_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIP_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_OFFICE_DOCUMENT = RELATIONSHIP_TYPES + "officeDocument"
_CORE_PROPERTIES = "/metadata/core-properties"  # the package namespace's type, transitional or strict
_CORE_FIELDS = {
    "title": "{http://purl.org/dc/elements/1.1/}title",
    "author": "{http://purl.org/dc/elements/1.1/}creator",
    "created": "{http://purl.org/dc/terms/}created",
    "modified": "{http://purl.org/dc/terms/}modified",
}
# The options python-docx and python-pptx parse with: no entity is expanded (check_zip has already
# refused any document type declaration), whitespace-only text between elements is dropped.
XML_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False)


@dataclass(frozen=True)
class Relationship:
    type: str
    target: str  # the part name, absolute ("/word/styles.xml")


class Package:
    """An open package; use it as a context manager."""

    def __init__(self, source: Source):
        self._zip = zipfile.ZipFile(source.stream())

    def __enter__(self) -> Package:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._zip.close()

    def read(self, partname: str) -> bytes:
        try:
            return self._zip.read(partname.lstrip("/"))
        except KeyError:
            raise Refused(f"corrupt: part {partname} is missing") from None

    def main_part(self) -> tuple[str, str]:
        """The main document part's name and content type."""
        for relationship in self.relationships("/").values():
            if relationship.type == _OFFICE_DOCUMENT:
                return relationship.target, self.content_type(relationship.target)
        raise Refused("corrupt: the package names no main document part")

    def relationships(self, partname: str) -> dict[str, Relationship]:
        """The internal relationships of a part ("/" for the package's own), by id."""
        directory, name = posixpath.split(partname)
        try:
            data = self._zip.read(posixpath.join(directory, "_rels", f"{name}.rels").lstrip("/"))
        except KeyError:
            return {}
        relationships = {}
        for element in etree.fromstring(data, XML_PARSER).iterchildren(_RELATIONSHIP):
            identifier, target = element.get("Id"), element.get("Target")
            if identifier and target and element.get("TargetMode") != "External":
                target_name = posixpath.normpath(posixpath.join(directory, target))
                relationships[identifier] = Relationship(element.get("Type", ""), target_name)
        return relationships

    def content_type(self, partname: str) -> str:
        """A part's content type ("" when [Content_Types].xml gives none); names compare
        regardless of case, as the package format says."""
        overrides: dict[str, str] = {}
        defaults: dict[str, str] = {}
        for element in etree.fromstring(self.read("[Content_Types].xml"), XML_PARSER):
            if element.tag == f"{_CONTENT_TYPES}Override":
                overrides[element.get("PartName", "").lower()] = element.get("ContentType", "")
            elif element.tag == f"{_CONTENT_TYPES}Default":
                defaults[element.get("Extension", "").lower()] = element.get("ContentType", "")
        extension = posixpath.splitext(partname)[1][1:].lower()
        return overrides.get(partname.lower()) or defaults.get(extension, "")

    def properties(self) -> Metadata:
        """Title, author and dates from the core properties part.

        Read here because python-docx, python-pptx and openpyxl invent a part (or a date) that is
        missing, stamped with the current time, which would make an undated file look fresh.
        """
        target = next((r.target for r in self.relationships("/").values() if r.type.endswith(_CORE_PROPERTIES)), None)
        try:
            core = fromstring(self._zip.read(target.lstrip("/"))) if target else None
        except KeyError:
            core = None
        if core is None:
            return Metadata()
        fields: dict[str, str] = {}
        for name, tag in _CORE_FIELDS.items():
            found = core.find(tag)
            value = field_text(found.text) if found is not None else ""
            if name in ("created", "modified"):
                try:
                    value = iso_datetime(datetime.fromisoformat(value)) if value else ""
                except ValueError:
                    value = ""
            fields[name] = value
        return Metadata.of(fields)


def office_properties(source: Source) -> Metadata:
    """The core properties of the package ``source`` holds (see :meth:`Package.properties`)."""
    with Package(source) as package:
        return package.properties()
