"""Turn text into the terms the classifier compares, in the language it is written in: lower-case
words of any script, Latin accents folded ("revisión" and "revision" are one term), Snowball
stems, stop words removed, and word pairs. English also folds British spellings into American
ones. Each language's stemmer and stop words are loaded when a text in it is first read."""

from __future__ import annotations

import re
import threading
import tomllib
import unicodedata
from collections import Counter
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise, repeat
from typing import TYPE_CHECKING, NamedTuple


if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from scipy import sparse

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


class _Negation(NamedTuple):
    pattern: re.Pattern[str]
    needles: tuple[str, ...]  # a text the pattern matches holds one of these once lower-cased

    def joined(self, text: str) -> str:
        # Lower-casing and looking for the needles takes a twentieth of the time the pattern takes
        # to find nothing in a text full of "n"s; 46 of the 1,000 generated documents hold one.
        lowered = text.lower()
        if not any(needle in lowered for needle in self.needles):
            return text
        return self.pattern.sub(r"\1", text)


# "Non-conforming", "non conforming" and "nonconforming" are one word; so are Spanish "no
# conformidad" and "no-conformidad", and German "nicht konform".
# Each negation starts with an "n" and checks the word boundary after that letter, not before: the
# regex engine then looks only where an "n" stands.
_NEGATION = {
    language: _Negation(re.compile(rf"([nN](?<!\w.)(?i:{rest}))(?:-[ \t]*|[ \t]+)(?=(?i:{following}))"), needles)
    for language, rest, following, needles in (
        ("en", "on", r"[^\W\d_]", ("non-", "non ", "non\t")),
        ("fr", "on", r"[^\W\d_]", ("non-", "non ", "non\t")),
        ("es", "o", "conform", ("conform",)),
        ("pt", "ão|ao|o", "conform", ("conform",)),
        ("de", "icht", "konform", ("konform",)),
    )
}


class Analyzer:
    """Terms of texts in one language."""

    def __init__(self, language: str, stop_words: frozenset[str]):
        self.language = language
        self.stop_words = stop_words
        algorithm = _SNOWBALL.get(language)
        # Imported here: a rescan that scores nothing reads kinds (``doctype``) but stems no word.
        import Stemmer  # noqa: PLC0415  (PyStemmer: the Snowball algorithms in C)

        # Without a cache of its own: ``stem`` keeps one.
        self._stemmer = Stemmer.Stemmer(algorithm, 0) if algorithm else None
        # A stemmer keeps the word it works on in itself: threads sharing this analyzer (a Dask
        # worker's threads) take turns, or one's word is cut with another's cursor.
        self._stemming = threading.Lock()
        self._negation = _NEGATION.get(language)
        self.stem = lru_cache(maxsize=200_000)(self._stem)

    def _stem(self, word: str) -> str:
        # Accents go first, so that a word written with or without them has one stem.
        word = fold_accents(word)
        if self.language == "en":
            word = _BRITISH.sub(lambda m: {"is": "iz", "ys": "yz"}[m.group(1)] + m.group(2), word)
        if self._stemmer is None:
            return word
        with self._stemming:
            return self._stemmer.stemWord(word)

    def joined(self, text: str) -> str:
        """The text with each negation joined to the word it negates ("non-conforming" ->
        "nonconforming"), in the case it is written."""
        return self._negation.joined(text) if self._negation is not None else text

    def words(self, text: str) -> list[str]:
        """The text's words, lower-cased, without stop words."""
        return [w for w in self._lowered_words(text) if len(w) > 1 and w not in self.stop_words]

    def _lowered_words(self, text: str) -> list[str]:
        """The text's words (``_WORD``) lower-cased, negations joined; an ASCII text's one-letter
        runs too, found with its words at C speed (callers drop what is shorter than two letters)."""
        runs = _letter_runs(self.joined(text))
        return runs.decode("ascii").split() if runs is not None else _WORD.findall(self.joined(text.casefold()))

    def terms(self, text: str) -> list[str]:
        """Stemmed unigrams and adjacent pairs (pairs skip across removed stop words)."""
        stems = [self.stem(w) for w in self.words(text)]
        return stems + [f"{a} {b}" for a, b in pairwise(stems)]

    def counts(self, text: str) -> Counter[str]:
        """``Counter(self.terms(text))``, its terms in the same order. A long text's are made
        without a string per word: each distinct word is stemmed once, the text's words become
        numbers whose pairs are counted as numbers, and a string is made per distinct term."""
        if len(text) < _NUMBERED_FROM:
            return Counter(self.terms(text))
        import numpy as np  # noqa: PLC0415  (see count_matrix)

        written = self._lowered_words(text)
        stems: dict[str, int] = {}  # each stem, numbered in the order it first occurs
        number_of: dict[str, int] = {}  # each distinct word's stem number; -1: not a term
        stop_words, stem = self.stop_words, self.stem
        for word in dict.fromkeys(written):
            number_of[word] = -1 if len(word) < 2 or word in stop_words else stems.setdefault(stem(word), len(stems))
        numbers = np.fromiter(map(number_of.__getitem__, written), dtype=np.int64, count=len(written))
        return _counted(list(stems), numbers[numbers >= 0])


def _counted(names: list[str], numbers: np.ndarray) -> Counter[str]:
    """``Counter(terms)`` of a text whose kept words' stems are ``names[number]``, in ``numbers``'
    order (stems numbered as they first occur)."""
    import numpy as np  # noqa: PLC0415  (see count_matrix)

    counted: Counter[str] = Counter()
    # dict.update, not Counter.update (a loop in Python): no pair is spelled as a stem is.
    dict.update(counted, zip(names, np.bincount(numbers, minlength=len(names)).tolist(), strict=True))
    if len(numbers) > 1:
        pairs = numbers[:-1] * len(names) + numbers[1:]
        distinct, first, times = np.unique(pairs, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")  # as the pairs first occur
        firsts, seconds = np.divmod(distinct[order], len(names))
        dict.update(counted, zip(map("{} {}".format, map(names.__getitem__, firsts.tolist()),
                                     map(names.__getitem__, seconds.tolist())),
                                 times[order].tolist(), strict=True))
    return counted


# Below this many characters, counting terms one by one is quicker than numpy's fixed costs. On the
# generated documents' texts it was twice as quick under 2,000 characters, about even from 20,000 to
# 50,000, and half as quick above.
_NUMBERED_FROM = 20_000
# ASCII letters (lower-cased, or as written), every other byte a space: ``bytes.translate`` then
# ``split`` finds an ASCII text's letter runs several times faster than ``_WORD``.
_ASCII_LETTERS = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))
_ASCII_LETTERS_AS_WRITTEN = bytes(c if 65 <= c <= 90 or 97 <= c <= 122 else 32 for c in range(256))
_WORD_KEPT = re.compile(f"({_WORD.pattern})")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_WORD_CHARACTER = re.compile(r"\w")


def _letter_runs(text: str, letters: bytes = _ASCII_LETTERS) -> bytes | None:
    """The text as ASCII bytes read through ``letters`` (letters kept, lower-cased by
    ``_ASCII_LETTERS``; every other byte a space): their ``split()`` gives ``_WORD.findall``'s
    words, one-letter runs as well. None where the text holds a character outside ASCII that is
    part of a word or becomes one when case-folded (the others, such as typographic quotes and
    dashes, only separate words, as a space does)."""
    if not text.isascii():
        odd = set("".join(_NON_ASCII.findall(text)))
        if any(_WORD_CHARACTER.search(c) or _WORD_CHARACTER.search(c.casefold()) for c in odd):
            return None
    return text.encode("ascii", "replace").translate(letters)


def _spans(letters: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Where each letter run of ``_letter_runs``'s bytes starts and ends."""
    import numpy as np  # noqa: PLC0415  (see count_matrix)

    edges = np.flatnonzero(np.diff(np.frombuffer(letters, dtype=np.uint8) != 32, prepend=False, append=False))
    return edges[0::2], edges[1::2]


def count_words(text: str) -> int:
    """How many words (``_WORD``: two letters or more) the text has."""
    letters = _letter_runs(text)
    if letters is None:
        return len(_WORD.findall(text))
    starts, ends = _spans(letters)
    return int(((ends - starts) >= 2).sum())


@cache
def analyzer(language: str = "en") -> Analyzer:
    return Analyzer(language, _stop_words(language))


def terms(text: str, language: str = "en") -> list[str]:
    return analyzer(language).terms(text)


def stem(word: str, language: str = "en") -> str:
    return analyzer(language).stem(word)


def count_matrix(counts: list[Counter[str]], vocabulary: dict[str, int], dtype: type) -> sparse.csr_matrix:
    """The document-term count matrix (rows: ``counts``; columns: ``vocabulary``) as scikit-learn's
    ``CountVectorizer.transform`` builds it from the same texts: same numbers, sorted columns."""
    import numpy as np  # noqa: PLC0415  (a rescan that scores nothing imports neither)
    from scipy import sparse  # noqa: PLC0415

    columns: list[np.ndarray] = [np.zeros(0, dtype=np.int32)]
    values: list[np.ndarray] = [np.zeros(0, dtype=np.intc)]
    starts = [0]
    for counted in counts:
        # Each distinct term looked up at C speed (-1: not in the vocabulary).
        row_columns = np.array(list(map(vocabulary.get, counted, repeat(-1))), dtype=np.int32)
        known = row_columns >= 0
        columns.append(row_columns[known])
        values.append(np.fromiter(counted.values(), dtype=np.intc, count=len(counted))[known])
        starts.append(starts[-1] + len(columns[-1]))
    matrix = sparse.csr_matrix((np.concatenate(values), np.concatenate(columns), np.asarray(starts, dtype=np.int32)),
                               shape=(len(counts), len(vocabulary)), dtype=dtype)
    matrix.sort_indices()
    return matrix


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
        # Imported here: scikit-learn takes seconds to import, and a rescan that scores nothing needs none of it.
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: PLC0415

        words |= ENGLISH_STOP_WORDS
    words = {w.casefold() for w in words}
    return frozenset(words | {fold_accents(w) for w in words})


@cache
def _stop_word_table() -> dict[str, dict[str, str]]:
    data = resources.files("gapscan.classifiers").joinpath("data", "stopwords.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


# A pair is shown with the words between its two ("control of documented") when they are few and
# the pair does not span punctuation; otherwise as its two words with an ellipsis between.
_JOINING = re.compile(r"[^\W\d_]*(?:[\s'/&-]+[^\W\d_]*){0,4}")
_MAX_GAP_CHARS = 24


class SurfaceForms:
    """Names terms as a text writes them: ``qualiti manag`` -> ``quality management`` when that is
    how the text most often spells the words behind those stems. Acronyms keep their capitals
    (``CAPA``), other words are shown in lower case. The terms are those of ``language`` (its
    stems and stop words: ``auditori intern`` -> ``auditoría interna``). A term the text does not
    hold (a label such as "training record") comes back as it is. The text is read when the first
    term is named."""

    def __init__(self, text: str, language: str = "en"):
        self.text = text
        self.analyzer = analyzer(language)
        self.read = False
        self.spellings: dict[str, Counter] = {}  # stem -> how often each way it is written, in order
        self.stem_numbers: dict[str, int] = {}  # each stem the text has, numbered
        # Of each word terms() keeps, in order: its stem's number, where it starts and ends in the text.
        self.kept_numbers: np.ndarray
        self.kept_starts: np.ndarray
        self.kept_ends: np.ndarray
        self.named: dict[str, str] = {}
        self.ascii_words = False  # whether its words were found as ASCII letter runs

    def __call__(self, term: str) -> str:
        if term not in self.named:
            found = self._forms(term)
            self.named[term] = found.most_common(1)[0][0] if found else term
        return self.named[term]

    def _read(self) -> None:
        """The words and where they are, in C-speed passes; each distinct word is stemmed once."""
        import numpy as np  # noqa: PLC0415  (see count_matrix)

        text = self.text = self.analyzer.joined(self.text)
        letters = _letter_runs(text, _ASCII_LETTERS_AS_WRITTEN)
        runs: Sequence[str | bytes]
        if letters is not None:
            self.ascii_words = True
            runs = letters.split()
            starts, ends = _spans(letters)
        else:
            parts = _WORD_KEPT.split(text)  # the text before each word, then the word
            runs = parts[1::2]
            ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))[1::2]
            starts = ends - np.fromiter(map(len, runs), dtype=np.int64, count=len(runs))
        stop_words, stem = self.analyzer.stop_words, self.analyzer.stem
        number_of: dict[str | bytes, int] = {}
        for run, count in Counter(runs).items():  # in the order words first occur
            written = run.decode() if isinstance(run, bytes) else run
            word = written.casefold()
            if len(written) < 2 or word in stop_words:
                number_of[run] = -1
                continue
            stemmed = stem(word)
            number_of[run] = self.stem_numbers.setdefault(stemmed, len(self.stem_numbers))
            self.spellings.setdefault(stemmed, Counter())[written] = count
        numbers = np.fromiter(map(number_of.__getitem__, runs), dtype=np.int64, count=len(runs))
        kept = numbers >= 0
        self.kept_numbers, self.kept_starts, self.kept_ends = numbers[kept], starts[kept], ends[kept]
        self.read = True

    def counts(self) -> Counter[str] | None:
        """``Counter(self.analyzer.terms(text))`` from the words already read, where they were found
        as ASCII letter runs (``Analyzer.counts`` finds the same words there, and numbers their
        stems alike); None otherwise (case-folding a whole text and each word apart may part words
        differently: a dotted capital I folds to an i and a combining dot)."""
        if not self.read:
            self._read()
        return _counted(list(self.stem_numbers), self.kept_numbers) if self.ascii_words else None

    def _forms(self, term: str) -> Counter:
        """How often the text writes ``term`` each way, in the order the ways first occur."""
        import numpy as np  # noqa: PLC0415  (see count_matrix)

        if not self.read:
            self._read()
        first, _, second = term.partition(" ")
        found: Counter = Counter()
        if not second:
            for written, count in self.spellings.get(first, Counter()).items():
                found[_shown(written)] += count
            return found
        if first not in self.stem_numbers or second not in self.stem_numbers:
            return found
        numbers = self.kept_numbers
        places = np.flatnonzero((numbers[:-1] == self.stem_numbers[first]) & (numbers[1:] == self.stem_numbers[second]))
        # Each occurrence as (its text from the first word's start to the second's end, the
        # first's length, where the second starts in it); each distinct one is shown once.
        pairs: list[tuple[str, int, int]] = []
        starts, ends = self.kept_starts, self.kept_ends
        for place in places.tolist():
            start, second_start = int(starts[place]), int(starts[place + 1])
            pairs.append((self.text[start:int(ends[place + 1])], int(ends[place]) - start, second_start - start))
        for (text, end, next_start), count in Counter(pairs).items():
            gap = text[end:next_start]
            if len(gap) <= _MAX_GAP_CHARS and _JOINING.fullmatch(gap):
                found[_shown(" ".join(text.split()))] += count
            else:
                found[f"{_shown(text[:end])} \u2026 {_shown(text[next_start:])}"] += count
        return found


def _shown(words: str) -> str:
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words.split(" "))


def path_words(path: str) -> str:
    """A file path as words: ``03-records/CAPA_log-2024.xlsx`` -> ``records CAPA log``."""
    stem_part = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    spaced = re.sub(r"(?<=[^\W\d_])(?<![A-Z])(?=[A-Z])", " ", stem_part)
    return re.sub(r"[\W\d_]+", " ", spaced).strip()
