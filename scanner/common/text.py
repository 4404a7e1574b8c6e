"""Text cleaning shared by extraction and the renderers."""

from __future__ import annotations

import re

_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: object) -> str:
    """``text`` as a string any UTF-8 encoder can write: each lone surrogate (Python's stand-in for
    a byte of a file name that was not UTF-8) becomes U+FFFD; ``None`` becomes ""."""
    return _SURROGATES.sub("\ufffd", "" if text is None else str(text))
