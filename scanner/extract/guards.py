"""What every format handler shares: the limits and the checks that enforce them, one-line
reasons for failures and the text collector (:class:`Draft`).

A handler raises :class:`Refused` for a file it must not or cannot read; ``extract_file`` turns
that, and any other exception (through :func:`describe_error`), into an ``Unreadable`` reason.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from gapscan.scanner.common.documents import Metadata, Section
from gapscan.scanner.common.limits import LIMIT_RANGES, Limits  # noqa: F401 - re-exported: the extractors take Limits from here
from gapscan.scanner.common.names import visible_text
from gapscan.scanner.common.reading import ReadRefused, TooLarge, read_regular
from gapscan.scanner.common.text import clean_text

MiB = 1024 * 1024
NO_TEXT = "no extractable text (image-only or empty)"
UNSAFE_XML = "unsafe XML: entity or DTD declarations are not allowed"

# Encrypted OOXML files are OLE compound files holding the encrypted package, not zips.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A member must be this big before its compression ratio counts as suspicious.
_RATIO_MIN_BYTES = 10 * MiB
_MAX_RATIO = 200
_LOCATOR_CHARS = 120
# Characters kept of a metadata field (title, author): within max_chars, and never more than this.
FIELD_CHARS = 1000
_DATE_CHARS = 40
# How much of each zip member's start is inflated to look for a DTD before its root element.
_PROLOG_WINDOW = 64 * 1024
# Members that are never XML (pictures, fonts, media, OLE objects): their prologue is not checked.
_BINARY_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".jfif", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".wdp",
    ".svg", ".bin", ".ttf", ".odttf", ".otf", ".mp3", ".mp4", ".m4a", ".wav", ".wmv", ".avi",
)  # fmt: skip
_XML_SPACE = " \t\r\n"
# Lone surrogates: what Python makes of bytes it could not decode. No UTF-8 writer (SQLite, JSON,
# HTML) accepts them, so text leaving the extractor never holds one.


class Refused(Exception):
    """A file that will not be read; the message is the one-line reason shown to users."""


@dataclass(frozen=True)
class Source:
    """The bytes of one document, read once: the bytes that were hashed are the bytes parsed."""

    name: str  # the file name (a suffix such as .tsv can matter)
    data: bytes

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.data)


def human_size(size: int) -> str:
    if size >= 1024 * MiB:
        return f"{size / (1024 * MiB):.1f} GB"
    if size >= MiB:
        return f"{size / MiB:.1f} MB"
    return f"{size} bytes"


def iso_datetime(value: datetime | None) -> str:
    """A document property timestamp as ISO 8601 to the second, in UTC without an offset (the
    form Office properties use), so timestamps from every format compare; "" when absent."""
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat()


def check_size(size: int, limits: Limits) -> None:
    if size == 0:
        raise Refused("empty file (0 bytes)")
    if size > limits.max_file_bytes:
        raise Refused(too_large(size, limits))


TOO_LARGE = "too large"


def too_large(size: int, limits: Limits) -> str:
    return f"{TOO_LARGE} ({human_size(size)} > limit {human_size(limits.max_file_bytes)})"


def read_document(path: str | os.PathLike, limits: Limits, inside: str | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of a document file (a regular file, at most ``max_file_bytes``; with ``inside``,
    one whose real path lies below that folder) and its status as read. Every file a handler reads,
    the document itself or a file it includes, is read through here. Raises :class:`Refused` with
    the reason when the file is not to be read or the system says no."""
    try:
        return read_regular(path, limits.max_file_bytes, inside)
    except TooLarge as error:
        raise Refused(too_large(max(error.size, limits.max_file_bytes + 1), limits)) from None
    except ReadRefused as error:
        raise Refused(str(error)) from None
    except OSError as error:
        raise Refused(f"cannot read: {error.strerror or error}") from None


def check_zip(source: Source, fmt: str, limits: Limits) -> None:
    """Refuse a zip-based document that is encrypted, not a zip, would inflate too far, or holds
    XML with a document type declaration (entity expansion, external entities).

    Sizes come from the central directory; ``zipfile`` never inflates a member past its declared
    size (a lying header fails the CRC check instead), so checking declared sizes is enough.
    """
    if source.data.startswith(OLE_MAGIC):
        raise Refused("encrypted (password-protected Office file)")
    try:
        archive = zipfile.ZipFile(source.stream())
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise Refused(f"corrupt: not a valid .{fmt} (zip) file") from None
    with archive:
        members = archive.infolist()
        total = 0
        for member in members:
            total += member.file_size
            too_big = member.file_size > limits.max_member_bytes
            ratio = member.file_size / max(member.compress_size, 1)
            if too_big or (member.file_size > _RATIO_MIN_BYTES and ratio > _MAX_RATIO):
                raise Refused(
                    f"zip bomb suspected: member {member.filename} inflates to "
                    f"{human_size(member.file_size)}"
                )
        if total > limits.max_archive_bytes:
            raise Refused(f"zip bomb suspected: archive inflates to {human_size(total)}")
        for member in members:
            if member.flag_bits & 0x1:
                raise Refused(f"encrypted (password-protected zip member {member.filename})")
            if member.is_dir() or member.filename.lower().endswith(_BINARY_SUFFIXES):
                continue
            with archive.open(member) as stream:
                head = stream.read(_PROLOG_WINDOW)
            if declares_dtd(head, complete=len(head) < _PROLOG_WINDOW):
                raise Refused(UNSAFE_XML)


def declares_dtd(head: bytes, complete: bool = True) -> bool:
    """Whether XML starting with ``head`` has a document type declaration (where entities are
    declared: billion laughs, external entities) before its root element.

    Office and OpenDocument files never carry one, so any is refused before a parser sees it; the
    parsers are also configured not to expand entities, which stays the second line of defence.
    ``complete`` says ``head`` is the whole member; a prologue running past an incomplete head
    (64 KB of comments) counts as a declaration.
    """
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", "ignore")
    elif head.startswith(b"<\0"):
        text = head.decode("utf-16-le", "ignore")
    elif head.startswith(b"\0<"):
        text = head.decode("utf-16-be", "ignore")
    else:
        text = head.decode("latin-1")
    position = 0
    while True:
        while position < len(text) and text[position] in _XML_SPACE:
            position += 1
        if text.startswith("<?", position):
            end = text.find("?>", position + 2)
            position = end + 2
        elif text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            position = end + 3
        else:
            return text.startswith("<!", position)
        if end < 0:
            return not complete


def describe_error(error: BaseException) -> str:  # noqa: PLR0911  one reason per kind of error, most specific first
    """A one-line reason for an exception raised while reading a file."""
    if isinstance(error, Refused):
        return _one_line(error, 300)  # it may quote a member name, which may hold anything
    if isinstance(error, MemoryError):
        return "out of memory (over the worker memory limit)"
    if isinstance(error, RecursionError):
        return "corrupt: structure nested too deeply"
    if isinstance(error, FileNotFoundError):
        return "file vanished during the scan"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, DefusedXmlException):
        return UNSAFE_XML
    if isinstance(error, ParseError):
        return f"corrupt: malformed XML ({_one_line(error)})"
    if isinstance(error, zipfile.BadZipFile):
        return f"corrupt: damaged zip archive ({_one_line(error)})"
    if isinstance(error, OSError):
        return f"could not read the file ({_one_line(error)})"
    return f"corrupt: {type(error).__name__}: {_one_line(error)}"


def _one_line(error: BaseException, limit: int = 200) -> str:
    text = one_line_text(str(error)[: limit * 4]) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than line breaks
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # never text; a NUL breaks some writers


def normalise(text: str) -> str:
    """Collapse runs of spaces in each line and drop blank lines."""
    if isinstance(text, str) and text.isprintable() and "  " not in text:
        # One line with no white space but single spaces (nor control characters or surrogates,
        # which are not printable): the common paragraph or row, at C speed.
        return text.strip()
    text = _CONTROLS.sub(" ", clean_text(text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def one_line_text(text: str) -> str:
    """Text as one line: no line breaks, control characters or lone surrogates, and bidirectional
    controls written out (``<U+202E>``)."""
    return visible_text(" ".join(_CONTROLS.sub(" ", clean_text(text)).split()))


def field_text(text: str | None, limit: int = FIELD_CHARS) -> str:
    """A metadata field (a title, an author) as one line of at most ``limit`` characters. Only a
    bounded head of the value is looked at: a 150 MB title costs no more than a short one."""
    line = one_line_text((text or "")[: limit * 4])
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def date_text(text: str | None) -> str:
    """A metadata date as written (ISO 8601), bounded."""
    return one_line_text((text or "")[:_DATE_CHARS])


def locator_text(text: str) -> str:
    """A heading or title as a one-line locator of bounded length."""
    line = one_line_text(text)
    return line if len(line) <= _LOCATOR_CHARS else line[: _LOCATOR_CHARS - 1] + "…"


class Draft:
    """A document's text as it is being read: sections, metadata, warnings, and a character budget.

    Handlers call :meth:`start` for each new section and :meth:`add` for each paragraph; once
    ``max_chars`` characters are kept, :attr:`full` turns true and further text is dropped, so a
    handler can stop reading early (a million-row sheet stops at the budget).
    """

    def __init__(self, max_chars: int, locator: str) -> None:
        self.metadata = Metadata()
        self.warnings: list[str] = []
        self.full = False
        self.includes: tuple[str, ...] = ()  # other files read into this one (LaTeX \input)
        self._max_chars = max_chars
        self._room = max_chars
        self._sections: list[Section] = []
        self._locator = locator
        self._label = ""
        self._lines: list[str] = []

    def start(self, locator: str, heading: str = "", label: str = "") -> None:
        """Begin a new section. ``heading`` becomes its first line; so does ``label``, but only
        once the section has text of its own (a sheet's name alone is not content)."""
        self._close()
        self._locator = locator_text(locator)
        self._label = normalise(label)
        self.add(heading)

    def add(self, text: str) -> None:
        if self.full:
            return
        text = normalise(text)
        if not text:
            return
        if self._label:
            text, self._label = f"{self._label}\n{text}", ""
        if len(text) >= self._room:
            text = text[: self._room].rstrip()
            self.full = True
        self._room -= len(text) + 1
        self._lines.append(text)

    @property
    def chars(self) -> int:
        """Characters kept so far."""
        return self._max_chars - self._room

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def sections(self) -> tuple[Section, ...]:
        """The sections with text, in document order."""
        self._close()
        return tuple(self._sections)

    def _close(self) -> None:
        if self._lines:
            self._sections.append(Section(self._locator, "\n".join(self._lines)))
            self._lines = []
