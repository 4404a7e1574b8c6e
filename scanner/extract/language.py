"""The language a document is written in, detected from its extracted text.

py3langid (a naive Bayes classifier over byte n-grams, 97 languages, its model shipped inside the
package as arrays, no pickle) classifies a bounded sample: a few slices spread over the text, so
an English cover page does not decide for a Spanish document, and the language with most of the
text wins. Too little text, or a guess the model is unsure of, is :data:`UNDETERMINED`: a CSV of
numbers or a 20-word form is never excluded for a language it may not be in. When one of those
slices is in another language, each section gets its own language too (a Spanish manual's English
appendix), so that the classifier reads it with the right words. The sample and its slices are
read in one walk of py3langid's automaton, and scored as py3langid's ``classify`` scores them.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

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

_Span = tuple[int, int]  # a slice's start and end
# A float16's exponent bits: all clear in zero and subnormal numbers, all set in infinities and NaN.
_HALF_EXPONENT = 0x7C00


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language most of ``text`` is written in, or :data:`UNDETERMINED`."""
    return identify((Section("", text),))[0]


def identify(sections: tuple[Section, ...]) -> tuple[str, tuple[Section, ...]]:
    """The language most of the sections' text is written in, and the sections, each with its own
    language where it is written in another. Sections are examined one by one only when a slice of
    the text is in another language, so a document in one language costs one walk of its sample."""
    sample, spans = _sample("\n".join(section.text for section in sections))
    if not _has_words(sample, _MIN_WORDS):
        return UNDETERMINED, sections
    if len(sections) < 2:
        spans = []
    walk = _SampleWalk(sample, spans)
    language = _decide(walk.features, walk.size)
    if not any(
        _has_words(sample, _MIN_SECTION_WORDS, start, end)
        and _decide(*walk.slice(i)) not in (language, UNDETERMINED)
        for i, (start, end) in enumerate(spans)
    ):
        return language, sections
    marked = []
    for section in sections:
        own = _confident(section.text[:_SLICE_CHARS])
        marked.append(replace(section, language=own) if own not in (language, UNDETERMINED) else section)
    return language, tuple(marked)


def _confident(text: str) -> str:
    """The language of a piece of text long enough to tell, or :data:`UNDETERMINED`."""
    if not _has_words(text, _MIN_SECTION_WORDS):
        return UNDETERMINED
    return _decide(*_walked_alone(text))


def _has_words(text: str, words: int, start: int = 0, end: int = sys.maxsize) -> bool:
    """Whether ``text[start:end]`` has this many words (looked for until there are)."""
    return sum(1 for _ in islice(_WORD.finditer(text, start, end), words)) == words


def load_detector() -> None:
    """Load the model now (about half a second): worker processes forked afterwards share it."""
    _model()


def _sample(text: str) -> tuple[str, list[_Span]]:
    """The text a document's language is guessed from, and where in it the three slices are that
    the sections' languages are checked on: the start, the middle and the end, each at most
    ``_SLICE_CHARS``. A text longer than the three slices is sampled by them, joined by line breaks."""
    size = min(_SLICE_CHARS, len(text) // _SLICES or len(text))
    step = (len(text) - size) / (_SLICES - 1)
    spans = [(int(i * step), int(i * step) + size) for i in range(_SLICES)]
    if len(text) <= _SLICES * _SLICE_CHARS:
        return text, spans
    joined = [(i * (size + 1), i * (size + 1) + size) for i in range(_SLICES)]
    return "\n".join(text[start:end] for start, end in spans), joined


class _SampleWalk:
    """The features of a sample and, from the same walk, those each slice of it gives walked alone.

    Where a slice begins, the sample's walk and a walk from the start state go side by side until
    they reach the same state (a few bytes: a state remembers only the last few); from there on the
    slice's features are the sample's. The bytes are the same only where each slice encodes as it
    does inside the sample (not, say, a slice all in capitals, which is lowered on its own); a
    slice that does not is walked alone.
    """

    def __init__(self, sample: str, spans: list[_Span]) -> None:
        data = _encode(sample)
        self.size = len(data)
        self.features: list[int] = []
        self._slices: list[tuple[list[int], int]] = []
        bounds = _byte_spans(sample, spans, data)
        if bounds is None:
            _walk(data, 0, len(data), 0, self.features)
            self._slices = [_walked_alone(sample[start:end]) for start, end in spans]
            return
        model = _model()
        nextmove, rowbase, output = model.nextmove, model.rowbase, model.output
        state = position = 0
        for start, end in bounds:
            state = _walk(data, position, start, state, self.features)
            alone, own, position = [], 0, start
            while position < end and own != state:
                letter = data[position]
                state = nextmove[rowbase[state] + letter]
                own = nextmove[rowbase[own] + letter]
                if output[state] >= 0:
                    self.features.append(output[state])
                if output[own] >= 0:
                    alone.append(output[own])
                position += 1
            shared = len(self.features)
            state = _walk(data, position, end, state, self.features)
            self._slices.append((alone + self.features[shared:], end - start))
            position = end
        _walk(data, position, len(data), state, self.features)

    def slice(self, i: int) -> tuple[list[int], int]:
        """The features of the ``i``-th slice walked alone, and its length in bytes."""
        return self._slices[i]


def _byte_spans(sample: str, spans: list[_Span], data: bytes) -> list[_Span] | None:
    """Where the slices' own encodings lie in the sample's, or None where they do not add up to it."""
    bounds, pieces, at, previous = [], [], 0, 0
    for start, end in spans:
        if start < previous:
            return None  # slices that overlap: a text of a character or two
        gap, piece = _encode(sample[previous:start]), _encode(sample[start:end])
        bounds.append((at + len(gap), at + len(gap) + len(piece)))
        pieces += [gap, piece]
        at, previous = bounds[-1][1], end
    pieces.append(_encode(sample[previous:]))
    return bounds if b"".join(pieces) == data else None


def _encode(text: str) -> bytes:
    """The bytes py3langid reads for a text (as its ``LanguageIdentifier._encode``)."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _walked_alone(text: str) -> tuple[list[int], int]:
    """The features of a text walked on its own, and its length in bytes."""
    data = _encode(text)
    features: list[int] = []
    _walk(data, 0, len(data), 0, features)
    return features, len(data)


def _walk(data: bytes, start: int, end: int, state: int, features: list[int]) -> int:
    """Walk the model's automaton over ``data[start:end]`` from ``state``, appending to ``features``
    each one met (as py3langid's ``visit_counts``); the state the walk ends in."""
    model = _model()
    nextmove, rowbase, output = model.nextmove, model.rowbase, model.output
    append = features.append
    for letter in data[start:end]:
        state = nextmove[rowbase[state] + letter]
        feature = output[state]
        if feature >= 0:
            append(feature)
    return state


def _decide(features: list[int], size: int) -> str:
    """The language of a text of ``size`` bytes with these features, or :data:`UNDETERMINED` where
    the model is unsure."""
    if not features:
        return UNDETERMINED  # every language equally likely
    probabilities = _probabilities(features, size)
    best = int(probabilities.argmax())
    if float(probabilities[best]) < _MIN_CONFIDENCE:
        return UNDETERMINED
    code = _model().languages[best]
    return _ALIASES.get(code, code)


def _probabilities(features: list[int], size: int) -> Any:
    """Each language's probability: py3langid's ``_decide`` with normalised probabilities, operation
    for operation, so that a confidence is the same to the last bit."""
    import numpy as np

    model = _model()
    visits = Counter(features)
    rows = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
    counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
    weights = model.weights[rows]
    if model.normal_halves:  # the product converts them so; numpy's own conversion is five times slower
        weights = _normal_halves_as_singles(weights)
    scores = np.log1p(counts) @ weights + model.priors
    scores *= 1.0 / math.sqrt(size or 1)
    np.exp(scores - scores.max(), out=scores)
    scores /= scores.sum()
    for first, repeat in model.aliases:
        scores[first] += scores[repeat]
        scores[repeat] = 0.0
    return scores


@dataclass(frozen=True)
class _Model:
    """py3langid's model as its classifier reads it: an automaton over bytes whose states name
    features, and a naive Bayes table of each feature's weight for each language."""

    nextmove: Sequence[int]
    rowbase: list[int]
    output: list[int]
    weights: Any  # numpy array, features × languages
    normal_halves: bool  # the weights are float16, none zero, subnormal, infinite or NaN
    priors: Any  # numpy array, one per language
    languages: list[str]
    aliases: list[tuple[int, int]]  # (first, repeat): columns of a language listed twice


@functools.cache
def _model() -> _Model:
    import numpy as np
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    languages = list(identifier.nb_classes)
    aliases = [(languages.index(code), i) for i, code in enumerate(languages) if languages.index(code) != i]
    weights = identifier.nb_ptc
    normal = weights.dtype == np.float16
    if normal:
        exponents = weights.view(np.uint16) & _HALF_EXPONENT
        normal = bool(np.all((exponents != 0) & (exponents != _HALF_EXPONENT)))
    return _Model(identifier.tk_nextmove, [row << 8 for row in identifier.tk_row], identifier.tk_output,
                  weights, normal, identifier.nb_pc, languages, aliases)


def _normal_halves_as_singles(halves: Any) -> Any:
    """Normal float16 numbers as float32, bit for bit what ``astype`` makes of them: the sign kept,
    the exponent rebiased (15 -> 127), the mantissa widened with zeros."""
    import numpy as np

    bits = halves.view(np.uint16).astype(np.int32)
    bits <<= 16
    bits >>= 3  # the sign into bits 28-31, the exponent into 23-27 and the mantissa into 13-22
    bits &= ~0x70000000  # the sign once, in bit 31
    bits += (127 - 15) << 23
    return bits.view(np.float32)
