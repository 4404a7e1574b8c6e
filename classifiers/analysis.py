"""Turn text into the terms the classifier compares, in the language it is written in: lower-case
words of any script, Latin accents folded ("revisión" and "revision" are one term), Snowball
stems, stop words removed, and word pairs. English also folds British spellings into American
ones. Each language's stemmer and stop words are loaded when a text in it is first read."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache, lru_cache
from importlib import resources

import snowballstemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Letters of every script, two or more: digits, underscores and punctuation separate words.
_WORD = re.compile(r"[^\W\d_]{2,}")
_BRITISH = re.compile(r"(?<=[a-z]{3})(is|ys)(e|es|ed|ing|ation|ations|ational|er|ers)$")
# Snowball algorithms by ISO 639-1 code; a language without one is compared on whole words.
_SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "et": "estonian", "eu": "basque", "fa": "persian", "fi": "finnish",
    "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
# "Non-conforming", "non conforming" and "nonconforming" are one word; so are Spanish "no
# conformidad" and "no-conformidad", and German "nicht konform".
_NEGATION = {
    "en": re.compile(r"\b(non)(?:-[ \t]*|[ \t]+)(?=[^\W\d_])"),
    "fr": re.compile(r"\b(non)(?:-[ \t]*|[ \t]+)(?=[^\W\d_])"),
    "es": re.compile(r"\b(no)(?:-[ \t]*|[ \t]+)(?=conform)"),
    "pt": re.compile(r"\b(não|nao|no)(?:-[ \t]*|[ \t]+)(?=conform)"),
    "de": re.compile(r"\b(nicht)(?:-[ \t]*|[ \t]+)(?=konform)"),
}


class Analyzer:
    """Terms of texts in one language."""

    def __init__(self, language: str, stop_words: frozenset[str]):
        self.language = language
        self.stop_words = stop_words
        algorithm = _SNOWBALL.get(language)
        self._stemmer = snowballstemmer.stemmer(algorithm) if algorithm else None
        self._negation = _NEGATION.get(language)
        self.stem = lru_cache(maxsize=200_000)(self._stem)

    def _stem(self, word: str) -> str:
        # Accents go first, so that a word written with or without them has one stem.
        word = fold_accents(word)
        if self.language == "en":
            word = _BRITISH.sub(lambda m: {"is": "iz", "ys": "yz"}[m.group(1)] + m.group(2), word)
        return self._stemmer.stemWord(word) if self._stemmer else word

    def words(self, text: str) -> list[str]:
        """The text's words, lower-cased, without stop words."""
        text = text.casefold()
        if self._negation is not None:
            text = self._negation.sub(r"\1", text)
        return [w for w in _WORD.findall(text) if w not in self.stop_words]

    def terms(self, text: str) -> list[str]:
        """Stemmed unigrams and adjacent pairs (pairs skip across removed stop words)."""
        stems = [self.stem(w) for w in self.words(text)]
        return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]

    def written(self, text: str) -> dict[str, str]:
        """Each stem of the text with the word the text first writes it as."""
        found: dict[str, str] = {}
        for word in self.words(text):
            found.setdefault(self.stem(word), word)
        return found


@cache
def analyzer(language: str = "en") -> Analyzer:
    return Analyzer(language, _stop_words(language))


def terms(text: str, language: str = "en") -> list[str]:
    return analyzer(language).terms(text)


def stem(word: str, language: str = "en") -> str:
    return analyzer(language).stem(word)


def as_written(term: str, written: dict[str, str]) -> str:
    """A term (a stem, or a pair of stems) in the words a text wrote it with."""
    return " ".join(written.get(part, part) for part in term.split(" "))


def fold_accents(word: str) -> str:
    """Latin letters without their accents ("revisión" -> "revision"); other scripts unchanged
    (their combining marks are letters' parts)."""
    if word.isascii():
        return word
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", word):
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _stop_words(language: str) -> frozenset[str]:
    table = _stop_word_table().get(language, {})
    words = set(table.get("function", "").split()) | set(table.get("domain", "").split())
    if language == "en":
        words |= ENGLISH_STOP_WORDS
    words = {w.casefold() for w in words}
    return frozenset(words | {fold_accents(w) for w in words})


@cache
def _stop_word_table() -> dict[str, dict[str, str]]:
    data = resources.files("gapscan.classifiers").joinpath("data", "stopwords.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def path_words(path: str) -> str:
    """A file path as words: ``03-records/CAPA_log-2024.xlsx`` -> ``records CAPA log``."""
    stem_part = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    spaced = re.sub(r"(?<=[^\W\d_])(?<![A-Z])(?=[A-Z])", " ", stem_part)
    return re.sub(r"[\W\d_]+", " ", spaced).strip()
