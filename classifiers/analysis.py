"""Turn text into the terms the classifier compares: lower-case words, British spellings folded into
American ones, Snowball stems, English stop words removed, and word pairs."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import snowballstemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_WORD = re.compile(r"[a-z][a-z]+")
_BRITISH = re.compile(r"(?<=[a-z]{3})(is|ys)(e|es|ed|ing|ation|ations|ational|er|ers)$")
_STEMMER = snowballstemmer.stemmer("english")
# Words every QMS document uses; they say nothing about which requirement a text is evidence for.
# The second line is document-control furniture (a form's ID and number, its template, approvals):
# left in, every controlled document looked like evidence for 7.5 "Documented information"
# (leave-one-source-out ISO F1 0.59 -> 0.63, docs/accuracy.md).
_DOMAIN_STOP = frozenset(
    {"shall", "must", "will", "may", "also", "use", "used", "using", "e", "g", "eg", "ie", "etc",
     "page", "section", "document", "version", "date", "yes", "n", "na", "tbd", "www", "http",
     "https", "com", "org", "md", "pdf", "docx", "xlsx",
     "template", "templates", "form", "forms", "id", "number", "format", "sop", "sops", "qms",
     "approval", "approvals", "approve", "approved", "approver", "approvers"}
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | _DOMAIN_STOP


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(_BRITISH.sub(lambda m: {"is": "iz", "ys": "yz"}[m.group(1)] + m.group(2), word))


# "non-conforming", "non conforming" and "nonconforming" are one word.
_NON = re.compile(r"\bnon(?:-[ \t]*|[ \t]+)(?=[a-z])")


def terms(text: str) -> list[str]:
    """Stemmed unigrams and adjacent pairs (pairs skip across removed stop words)."""
    words = [stem(w) for w in _WORD.findall(_NON.sub("non", text.lower())) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


_WORD_ANY_CASE = re.compile(_WORD.pattern, re.IGNORECASE)
_NON_ANY_CASE = re.compile(_NON.pattern, re.IGNORECASE)
# A pair is shown with the words between its two ("control of documented") when they are few and
# the pair does not span punctuation; otherwise as its two words with an ellipsis between.
_JOINING = re.compile(r"[^\W\d_]*(?:[\s'/&-]+[^\W\d_]*){0,4}")
_MAX_GAP_CHARS = 24


class SurfaceForms:
    """Names terms as a text writes them: ``qualiti manag`` -> ``quality management`` when that is
    how the text most often spells the words behind those stems. Acronyms keep their capitals
    (``CAPA``), other words are shown in lower case. A term the text does not hold (a label such as
    "training record") comes back as it is. The text is read when the first term is named."""

    def __init__(self, text: str):
        self.text = text
        self.words: list[tuple[str, int, int]] | None = None  # (stem, start, end) of each word terms() keeps
        self.places: dict[str, list[int]] = {}  # stem -> its indexes in ``words``
        self.named: dict[str, str] = {}

    def __call__(self, term: str) -> str:
        if term not in self.named:
            found = self._forms(term)
            self.named[term] = found.most_common(1)[0][0] if found else term
        return self.named[term]

    def _read(self) -> list[tuple[str, int, int]]:
        self.text = _NON_ANY_CASE.sub(lambda m: m.group(0)[:3], self.text)
        words = []
        for match in _WORD_ANY_CASE.finditer(self.text):
            word = match.group(0).lower()
            if word not in STOP_WORDS:
                self.places.setdefault(stem(word), []).append(len(words))
                words.append((stem(word), match.start(), match.end()))
        return words

    def _forms(self, term: str) -> Counter:
        if self.words is None:
            self.words = self._read()
        words, text = self.words, self.text
        first, _, second = term.partition(" ")
        found: Counter = Counter()
        for place in self.places.get(first, ()):
            _, start, end = words[place]
            if not second:
                found[_shown(text[start:end])] += 1
            elif place + 1 < len(words) and words[place + 1][0] == second:
                _, next_start, next_end = words[place + 1]
                gap = text[end:next_start]
                if len(gap) <= _MAX_GAP_CHARS and _JOINING.fullmatch(gap):
                    found[_shown(" ".join(text[start:next_end].split()))] += 1
                else:
                    found[f"{_shown(text[start:end])} \u2026 {_shown(text[next_start:next_end])}"] += 1
        return found


def _shown(words: str) -> str:
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words.split(" "))


def path_words(path: str) -> str:
    """A file path as words: ``03-records/CAPA_log-2024.xlsx`` -> ``records CAPA log``."""
    stem_part = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem_part)
    return re.sub(r"[^A-Za-z]+", " ", spaced).strip()
