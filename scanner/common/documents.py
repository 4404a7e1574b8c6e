"""The data that flows from discovery through extraction: files, their text and failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Document formats gapscan reads, keyed by lower-case suffix.
FORMATS: dict[str, str] = {
    ".docx": "docx",
    ".docm": "docx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".pdf": "pdf",
    ".pptx": "pptx",
    ".odt": "odt",
    ".ods": "ods",
    ".odp": "odp",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".csv": "csv",
    ".tsv": "csv",
    ".html": "html",
    ".htm": "html",
    ".tex": "tex",
    ".latex": "tex",
}
# Formats we recognise but cannot read; they are listed as skipped with a reason.
LEGACY_FORMATS: dict[str, str] = {".doc": "doc", ".xls": "xls", ".ppt": "ppt", ".rtf": "rtf"}
# A file with no suffix (e.g. a saved reply in a repository) is read as text if it looks like text.
NO_SUFFIX_FORMAT = "txt"


def format_of(name: str) -> str | None:
    """The format key for a file name, or None when gapscan does not look at such files."""
    dot = name.rfind(".")
    if dot <= 0:  # no suffix, or a dot-file such as ".gitignore"
        return NO_SUFFIX_FORMAT if dot < 0 else None
    suffix = name[dot:].lower()
    return FORMATS.get(suffix) or LEGACY_FORMATS.get(suffix)


@dataclass(frozen=True, slots=True)
class Document:
    """A file found by discovery. ``path`` is relative to the scanned root, with ``/``."""

    path: str
    format: str
    size: int
    mtime: float
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A piece of a document that is scored on its own: a heading's text, a page, a sheet, a slide."""

    locator: str
    text: str
    language: str = ""  # ISO 639-1, where it differs from the document's (an English appendix)


@dataclass(frozen=True, slots=True)
class Metadata:
    """What a document says about itself. Dates are ISO 8601 strings (``YYYY-MM-DD`` or longer)."""

    title: str = ""
    author: str = ""
    created: str = ""
    modified: str = ""
    dates_in_text: tuple[str, ...] = ()

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> Metadata:
        """The properties a document's format names: title, author, created and modified."""
        unknown = set(fields) - {"title", "author", "created", "modified"}
        if unknown:
            raise TypeError(f"not a document property: {', '.join(sorted(unknown))}")
        return cls(title=fields.get("title", ""), author=fields.get("author", ""),
                   created=fields.get("created", ""), modified=fields.get("modified", ""))


@dataclass(frozen=True, slots=True)
class Extract:
    """The text of a readable document, split into sections, with metadata and non-fatal warnings."""

    document: Document
    sections: tuple[Section, ...]
    metadata: Metadata = field(default_factory=Metadata)
    warnings: tuple[str, ...] = ()
    language: str = ""  # ISO 639-1 code detected from the text, "und" when undetermined
    # Other files read into this one (a LaTeX \input), relative to the scanned root: the extract
    # is out of date when any of them changes.
    includes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(section.text for section in self.sections)

    def loaded(self) -> Extract:
        """This extract with its sections in memory (one the index holds reads them)."""
        return self


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A document that could not be read. ``skipped`` means gapscan did not try (legacy format)."""

    document: Document
    reason: str
    skipped: bool = False


ExtractResult = Extract | Unreadable
