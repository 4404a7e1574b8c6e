"""PDF files, read with PDFium (pypdfium2): the text of each page in lines with their font
sizes, the outline and the document information dictionary; :mod:`.pdf_sections` turns them into
sections."""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

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
from gapscan.scanner.extract.pdf_sections import Line, font_headings, outline_headings, sectioned

# The header may follow some junk, but within the first kilobyte.
_HEADER_WINDOW = 1024
# Less text than this per page on average is a scan or a drawing with a caption, not a text.
_MIN_CHARS_PER_PAGE = 40
_MAX_OUTLINE_ENTRIES = 5000
_MAX_OUTLINE_DEPTH = 50
# PDFium ends each line with CR LF, and marks a hyphen it joined a word across lines with
# (U+FFFE: "appli\ufffecation" was "appli-" at the end of one line and "cation" on the next).
_LINE_END = "\r\n"
_JOINED_HYPHEN = "\ufffe"
# Characters per line whose font size is read; a line is nearly always set in one size.
_SIZE_SAMPLES = 5
# D:YYYYMMDDHHmmSS, every part after the year optional, then Z or an offset written +HH'mm'.
_PDF_DATE = re.compile(
    r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*(?:(Z)|([+-])(\d{2})'?(\d{2})?'?)?"
)

# PDFium is not thread-safe; threads that share a process (a Dask worker's) take turns.
_PDFIUM = threading.Lock()

# pypdfium2 logs what it works around (an outline that loops); what matters reaches the user as a
# reason or warning.
logging.getLogger("pypdfium2").setLevel(logging.ERROR)


def read(source: Source, fmt: str, limits: Limits) -> Draft:
    if b"%PDF-" not in source.data[:_HEADER_WINDOW]:
        raise Refused("corrupt: not a PDF file")
    with _PDFIUM:
        document = _open(source.data)
        try:
            return _read(document, limits)
        finally:
            document.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    """The document; one that only restricts permissions (an empty user password) opens."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise Refused("encrypted (password-protected PDF)") from None
        if error.err_code == pdfium_c.FPDF_ERR_SECURITY:
            raise Refused("encrypted with a security handler PDFium does not support") from None
        raise Refused(f"corrupt: damaged PDF ({_pdfium_reason(error)})") from None


def _read(document: pdfium.PdfDocument, limits: Limits) -> Draft:
    count = len(document)
    pages: list[list[Line]] = []
    warnings: list[str] = []
    chars = 0
    for index in range(count):
        if chars > limits.max_chars:
            break
        try:
            lines = _page_lines(document, index)
        except pdfium.PdfiumError:  # a page tree that loops or points at something else
            warnings.append(f"page {index + 1}: damaged (PDFium could not load it)")
            lines = []
        except Exception as error:  # noqa: BLE001 - one damaged page must not lose the rest
            warnings.append(f"page {index + 1}: {describe_error(error)}")
            lines = []
        pages.append(lines)
        chars += sum(len(line.text) + 1 for line in lines)
    if warnings and len(warnings) == count:
        raise Refused(f"corrupt: no page could be read ({warnings[0]})")
    if chars <= limits.max_chars and chars < _MIN_CHARS_PER_PAGE * (count - len(warnings)):
        raise Refused(NO_TEXT)
    draft = sectioned(pages, outline_headings(_outline(document), pages) or font_headings(pages), limits)
    draft.warnings.extend(warnings)
    draft.metadata = _metadata(document)
    return draft


def _page_lines(document: pdfium.PdfDocument, index: int) -> list[Line]:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return _text_lines(textpage)
        finally:
            textpage.close()
    finally:
        page.close()


def _text_lines(textpage: pdfium.PdfTextPage) -> list[Line]:
    """The page's text in lines, each with the font size most of its characters are set in."""
    text = textpage.get_text_range(errors="replace")  # a lone surrogate becomes U+FFFD, as in other formats
    # Where positions do not match the characters (outside the BMP?), sizes are unknown.
    size_at = _SizeReader(textpage) if len(text) == textpage.count_chars() else None
    lines: list[Line] = []
    start = 0
    for piece in text.split(_LINE_END):
        size = size_at.line(start, piece) if size_at else 0.0
        lines.extend(Line(part, size) for part in piece.replace(_JOINED_HYPHEN, "").splitlines() or [""])
        start += len(piece) + len(_LINE_END)
    return lines


class _SizeReader:
    """Font sizes of a text page's characters: the size the font operator sets, scaled by the
    text and transformation matrices, as a reader sees it."""

    def __init__(self, textpage: pdfium.PdfTextPage):
        self.raw = textpage.raw
        self.matrix = pdfium_c.FS_MATRIX()

    def line(self, start: int, line: str) -> float:
        """The size most of a few characters spread over the line (from ``start`` on the page) are
        set in (reading every character's would cost most of the PDF's reading time)."""
        sampled: dict[int, None] = {}
        for target in range(0, len(line), max(len(line) // _SIZE_SAMPLES, 1)):
            offset = target
            while offset < len(line) and line[offset].isspace():
                offset += 1
            if offset < len(line):
                sampled[offset] = None
        # Read until one size is set in most of them (after three of five, nearly always): no
        # other can then be the most common. Otherwise the most common, the first read of equals.
        majority = len(sampled) // 2 + 1
        counts: dict[float, int] = {}
        for offset in sorted(sampled):
            size = self.at(start + offset)
            counts[size] = counts.get(size, 0) + 1
            if counts[size] == majority:
                return size
        return max(counts, key=counts.__getitem__, default=0.0)

    def at(self, index: int) -> float:
        pdfium_c.FPDFText_GetMatrix(self.raw, index, self.matrix)
        return round(pdfium_c.FPDFText_GetFontSize(self.raw, index) * math.hypot(self.matrix.c, self.matrix.d), 1)


def _outline(document: pdfium.PdfDocument) -> list[tuple[int, str, int]]:
    """(depth, title, 0-based page) for each outline entry that points at a page, in order."""
    entries: list[tuple[int, str, int]] = []
    with contextlib.suppress(Exception):  # a broken outline is no reason to lose the text (or its entries so far)
        for bookmark in islice(document.get_toc(max_depth=_MAX_OUTLINE_DEPTH), _MAX_OUTLINE_ENTRIES):
            destination = bookmark.get_dest()
            page = destination.get_index() if destination is not None else None
            if page is not None:
                entries.append((bookmark.level, bookmark.get_title(), page))
    return entries


def _metadata(document: pdfium.PdfDocument) -> Metadata:
    """The information dictionary, whose fields are often malformed: each is read on its own."""
    try:
        info = document.get_metadata_dict(skip_empty=True)
    except Exception:  # noqa: BLE001 - a broken info dictionary is no reason to lose the text
        return Metadata()
    return Metadata.of({
        "title": field_text(info.get("Title")),
        "author": field_text(info.get("Author")),
        "created": iso_datetime(pdf_date(info.get("CreationDate", ""))),
        "modified": iso_datetime(pdf_date(info.get("ModDate", ""))),
    })


def pdf_date(text: str) -> datetime | None:
    """A PDF date string ("D:20260301093000+01'00'") as a datetime; None when it is not one."""
    match = _PDF_DATE.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, zulu, sign, offset_hours, offset_minutes = match.groups()
    try:
        value = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                         int(second or 0))
        if zulu:
            return value.replace(tzinfo=UTC)
        if sign:
            offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes or 0))
            return value.replace(tzinfo=timezone(offset if sign == "+" else -offset))
    except ValueError:  # month 13, an offset of 25 hours
        return None
    return value


def _pdfium_reason(error: pdfium.PdfiumError) -> str:
    """"Failed to load document (PDFium: Data format error)." -> "data format error"."""
    message = str(error)
    inner = message.partition("PDFium: ")[2].rstrip(").") or message
    return inner[:1].lower() + inner[1:]
