"""Office packages taken apart and put together again, for the tests of the Word and PowerPoint
readers (tests/test_docx_parts.py, tests/test_pptx_parts.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from gapscan.scanner.common.documents import Document, Extract, Unreadable, format_of
from gapscan.scanner.extract import Limits, extract_file


def rewritten(data: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The package with members replaced or, for None, removed."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            value = changes.get(item.filename, source.read(item.filename))
            if value is not None:
                target.writestr(item.filename, value)
    return output.getvalue()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.read(name)


def extracted(path: Path) -> Extract | Unreadable:
    """What a scan makes of the file."""
    result = extract_file(path, Document(path.name, format_of(path.name) or "", path.stat().st_size, 0.0), Limits())
    assert isinstance(result, Extract | Unreadable), result
    return result
