"""PDF files: the text in sections (see :mod:`.pdf_sections`), and the document information
dictionary."""

from __future__ import annotations

import logging

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PdfReadError

from gapscan.scanner.common.documents import Metadata
from gapscan.scanner.extract.guards import (
    NO_TEXT,
    Draft,
    Limits,
    Refused,
    Source,
    describe_error,
    field_text,
    iso_datetime,
)
from gapscan.scanner.extract.pdf_sections import Line, font_headings, outline_headings, page_lines, sectioned

# The header may follow some junk, but within the first kilobyte.
_HEADER_WINDOW = 1024
# Less text than this per page on average is a scan or a drawing with a caption, not a text.
_MIN_CHARS_PER_PAGE = 40

# pypdf logs every damage it works around; what matters reaches the user as a reason or warning.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    if b"%PDF-" not in source.data[:_HEADER_WINDOW]:
        raise Refused("corrupt: not a PDF file")
    try:
        reader = PdfReader(source.stream(), strict=False)
        if reader.is_encrypted:
            _decrypt(reader)
        pages = list(reader.pages)
    except PdfReadError as error:  # includes PdfStreamError, typical of a truncated file
        raise Refused(f"corrupt: damaged PDF ({describe_error(error).removeprefix('corrupt: ')})") from error
    texts: list[list[Line]] = []
    warnings: list[str] = []
    chars = 0
    for number, page in enumerate(pages, start=1):
        if chars > limits.max_chars:
            break
        try:
            lines = page_lines(page)
        except Exception as error:  # noqa: BLE001 - one damaged page must not lose the rest
            warnings.append(f"page {number}: {describe_error(error)}")
            lines = []
        texts.append(lines)
        chars += sum(len(line.text) + 1 for line in lines)
    if warnings and len(warnings) == len(pages):
        raise Refused(f"corrupt: no page could be read ({warnings[0]})")
    if chars <= limits.max_chars and chars < _MIN_CHARS_PER_PAGE * len(pages):
        raise Refused(NO_TEXT)
    draft = sectioned(texts, outline_headings(reader, texts) or font_headings(texts), limits)
    draft.warnings.extend(warnings)
    draft.metadata = _metadata(reader)
    return draft


def _decrypt(reader: PdfReader) -> None:
    """Open a PDF that only restricts permissions (empty user password); refuse the others."""
    try:
        opened = reader.decrypt("")
    except DependencyError:
        raise Refused(
            "encrypted with AES: install the 'cryptography' package to read this PDF"
        ) from None
    if opened == PasswordType.NOT_DECRYPTED:
        raise Refused("encrypted (password-protected PDF)")


def _metadata(reader: PdfReader) -> Metadata:
    """The information dictionary, whose fields are often malformed: each is read on its own."""
    try:
        info = reader.metadata
    except Exception:  # noqa: BLE001 - a broken info dictionary is no reason to lose the text
        return Metadata()
    if info is None:
        return Metadata()
    fields: dict[str, str] = {}
    for name, attribute in (
        ("title", "title"),
        ("author", "author"),
        ("created", "creation_date"),
        ("modified", "modification_date"),
    ):
        try:
            value = getattr(info, attribute)
        except Exception:  # noqa: BLE001 - e.g. a date string pypdf cannot parse
            continue
        fields[name] = iso_datetime(value) if name in ("created", "modified") else _text(value)
    return Metadata.of(fields)


def _text(value: object) -> str:
    return field_text(str(value)) if value else ""
