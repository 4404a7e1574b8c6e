"""Property-based fuzzing of the extractor boundary: mutated docx, xlsx, pptx and pdf bytes.

Whatever the bytes, ``extract_file`` returns an ``Extract`` with text or an ``Unreadable`` with a
one-line reason, and raises nothing. Mutations start from valid documents made by
``fixtures/documents.py``: bit flips, truncation, inserted noise, splices of two documents, and
for the zip formats the same damage inside one member of an otherwise valid archive (so the XML
parsers, not only the zip reader, see it). Extraction runs in this process for speed; a SIGALRM
turns a hang into a failed example, since nothing else could interrupt it.
"""

from __future__ import annotations

import io
import os
import signal
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.documents import DocSpec, Part, Table, write_document
from gapscan.scanner.common.documents import Document, Extract, Unreadable
from gapscan.scanner.extract import Limits, extract_file

SUFFIXES = (".docx", ".xlsx", ".pptx", ".pdf")
SPEC = DocSpec(
    "Internal audit report",
    (
        Part("Scope", ("Audit of the design process against the procedure.",)),
        Part("Findings", ("One minor nonconformity.",), Table((("Finding", "Owner"), ("Minutes", "A. Jones")))),
    ),
    author="J. Smith",
)
LIMITS = Limits(max_chars=20_000, max_member_bytes=8 * 1024 * 1024, max_archive_bytes=16 * 1024 * 1024)
HANG_SECONDS = 10
EXAMPLES = int(os.environ.get("GAPSCAN_FUZZ_EXAMPLES", "150"))  # per test; more for a long hunt


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so the extractor's ``except Exception`` cannot eat it."""


@contextmanager
def alarm(seconds: int):
    def ring(signum, frame):
        raise Hang(f"extraction did not finish in {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_folder = tempfile.TemporaryDirectory(prefix="gapscan-fuzz-")
WORK = Path(_folder.name)
SEEDS = {suffix: write_document(WORK / f"seed{suffix}", SPEC).read_bytes() for suffix in SUFFIXES}


def check(suffix: str, data: bytes) -> None:
    path = WORK / f"case{suffix}"
    path.write_bytes(data)
    document = Document(path.name, suffix.lstrip("."), len(data), 0.0)
    with alarm(HANG_SECONDS):
        result = extract_file(path, document, LIMITS)
    assert isinstance(result, (Extract, Unreadable)), result
    if isinstance(result, Extract):
        assert result.sections and all(section.text.strip() for section in result.sections)
        assert len(result.text) <= LIMITS.max_chars
        result.text.encode("utf-8")  # no lone surrogate
    else:
        reason = result.reason
        assert reason.strip() and "\n" not in reason and len(reason) <= 400, reason
        reason.encode("utf-8")


# --- mutations -------------------------------------------------------------------------------


@st.composite
def flipped(draw, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 16))):
        at = draw(st.integers(0, len(out) - 1))
        out[at] ^= draw(st.integers(1, 255))
    return bytes(out)


@st.composite
def truncated(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data) - 1))]


@st.composite
def inserted(draw, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]


@st.composite
def spliced(draw, data: bytes) -> bytes:
    other = SEEDS[draw(st.sampled_from(SUFFIXES))]
    return data[: draw(st.integers(0, len(data)))] + other[draw(st.integers(0, len(other))) :]


def damage(data: bytes):
    return st.one_of(flipped(data), truncated(data), inserted(data), spliced(data))


@st.composite
def member_damaged(draw, data: bytes) -> bytes:
    """A valid zip in which one member's uncompressed bytes are damaged."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    index = draw(st.integers(0, len(members) - 1))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (info, body) in enumerate(members):
            if number == index:
                archive.writestr(info.filename, draw(damage(body)) if body else draw(st.binary(max_size=32)))
            else:
                archive.writestr(info.filename, body)
    return out.getvalue()


# --- properties ------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure in CI reproduces locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(data=st.data())
def test_damaged_bytes_never_escape_the_extractor(suffix, data):
    check(suffix, data.draw(damage(SEEDS[suffix])))


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".pptx"])
@FUZZ
@given(data=st.data())
def test_damaged_zip_members_never_escape_the_extractor(suffix, data):
    check(suffix, data.draw(member_damaged(SEEDS[suffix])))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_the_seeds_themselves_extract(suffix):
    path = WORK / f"seed{suffix}"
    result = extract_file(path, Document(path.name, suffix.lstrip("."), path.stat().st_size, 0.0), LIMITS)
    assert isinstance(result, Extract) and "nonconformity" in result.text
