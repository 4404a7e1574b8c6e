"""The language a document is written in, detected from its extracted text.

py3langid (a naive Bayes classifier over byte n-grams, 97 languages, its model shipped inside the
package as arrays, no pickle) classifies a bounded sample: a few slices spread over the text, so
an English cover page does not decide for a Spanish document, and the language with most of the
text wins. Too little text, or a guess the model is unsure of, is :data:`UNDETERMINED`: a CSV of
numbers or a 20-word form is never excluded for a language it may not be in. When one of those
slices is in another language, each section gets its own language too (a Spanish manual's English
appendix), so that the classifier reads it with the right words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from gapscan.scanner.common.languages import UNDETERMINED
from gapscan.scanner.common.documents import Section

# Three slices of 2,000 characters (start, middle, end). Measured on the shared corpus: as
# accurate as the whole text, at about a millisecond per document.
_SLICES = 3
_SLICE_CHARS = 2000
# Below these, a guess is not trusted. On the corpus, guesses above 0.5 were never wrong, even on
# a document's first five words.
_MIN_WORDS = 5
_MIN_CONFIDENCE = 0.5
# A section, or a slice of a document, in another language counts when it has this many words: a
# heading or a table of figures is in the document's language.
_MIN_SECTION_WORDS = 30
_WORD = re.compile(r"[^\W\d_]{2,}")
# py3langid codes with no ISO 639-1 code of their own, mapped to their macrolanguage; "zxx" is
# "no linguistic content".
_ALIASES = {"ary": "ar", "arz": "ar", "wuu": "zh", "yue": "zh", "uzs": "uz", "gug": "gn", "hbo": "he",
            "zxx": UNDETERMINED}


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language most of ``text`` is written in, or :data:`UNDETERMINED`."""
    sample = _sample(text)
    if len(_WORD.findall(sample)) < _MIN_WORDS:
        return UNDETERMINED
    code, confidence = _identifier().classify(sample)
    if confidence < _MIN_CONFIDENCE:
        return UNDETERMINED
    return _ALIASES.get(code, code)


def mark_section_languages(sections: tuple[Section, ...], language: str) -> tuple[Section, ...]:
    """The sections, each with its own language where it is written in another than the document's
    ``language``. Sections are examined only when a slice of the text is in another language, so a
    document in one language costs three small guesses more."""
    if len(sections) < 2 or not _mixed("\n".join(s.text for s in sections), language):
        return sections
    marked = []
    for section in sections:
        own = _confident(section.text[:_SLICE_CHARS])
        marked.append(replace(section, language=own) if own not in (language, UNDETERMINED) else section)
    return tuple(marked)


def _mixed(text: str, language: str) -> bool:
    return any(_confident(piece) not in (language, UNDETERMINED) for piece in _slices(text))


def _confident(text: str) -> str:
    """The language of a piece of text long enough to tell, or :data:`UNDETERMINED`."""
    if len(_WORD.findall(text)) < _MIN_SECTION_WORDS:
        return UNDETERMINED
    code, confidence = _identifier().classify(text)
    return _ALIASES.get(code, code) if confidence >= _MIN_CONFIDENCE else UNDETERMINED


def load_detector() -> None:
    """Load the model now (about half a second): worker processes forked afterwards share it."""
    _identifier()


@functools.cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _sample(text: str) -> str:
    if len(text) <= _SLICES * _SLICE_CHARS:
        return text
    return "\n".join(_slices(text))


def _slices(text: str) -> list[str]:
    """Up to three pieces of at most ``_SLICE_CHARS``: the start, the middle and the end."""
    size = min(_SLICE_CHARS, len(text) // _SLICES or len(text))
    step = (len(text) - size) / (_SLICES - 1)
    return [text[int(i * step) : int(i * step) + size] for i in range(_SLICES)]
