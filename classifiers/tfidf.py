"""The TF-IDF classifier: documents and their sections compared with requirement profiles.

Classification has two steps. ``Tagger.score`` reads one document on its own: it compares the whole
document (with its title and file name) and each section with every requirement's profile, keeps
the better of the two, blends in the supervised model, explains each score by the terms behind it,
and notes what kind of document it is and whether it is about another regime. ``Tagger.decide``
then weighs every document of a collection together and says which scores are evidence:

1. Is the document evidence at all? Not when it is a reference (it lists clauses), mainly about
   another regime than the framework, or has too little text of its own.
2. For which requirements? Each score is measured against the collection's baseline for that
   requirement (what every document of this organisation scores for it: in a software company
   every document resembles "design and development" a little), and a document is evidence for what
   it is mainly about: its best requirement, any within ``relative_cutoff`` of it, and the other
   requirements of the same clause or practice area within ``sibling_cutoff`` of it.
Every other score above the near-miss floor is a near miss, never evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gapscan.classifiers.analysis import SurfaceForms, analyzer, count_words, path_words
from gapscan.classifiers.decision import Candidates, Classified, Decider, DocumentScores, TaggerSettings
from gapscan.classifiers.doctype import document_kind, record_of
from gapscan.classifiers.labels import label_class
from gapscan.classifiers.profiles import profile_text
from gapscan.classifiers.scope import Scope, ScopeModel
from gapscan.classifiers.similarity import ProfileSimilarity
from gapscan.classifiers.supervised import SupervisedModel
from gapscan.mappings import Catalog, CatalogError, bundled_regimes
from gapscan.scanner.common.languages import told
from gapscan.scanner.common.documents import Extract, Section
from gapscan.scanner.common.evidence import Evidence

__all__ = ["Classified", "Decider", "DocumentScores", "Tagger", "TaggerSettings"]


@dataclass(frozen=True, eq=False)
class Reading:
    """How a document reads against the requirement profiles (``Tagger.read``), per requirement."""

    text: str  # the whole document as it is read (``document_text``)
    chunks: list[tuple[str, str, str]]  # (locator, text, language) of each section scored
    # (unit, language) -> how often each of its terms that a model looks up occurs; unit 0 is the whole document
    counts: dict[tuple[int, str], Counter[str]]
    vectors: dict[tuple[int, int], tuple]  # (unit, framework position) -> (TF-IDF rows, its row, language)
    cosine: np.ndarray  # the better of the whole document's and its best section's (weighted)
    from_section: np.ndarray  # whether the best section gave it
    best_section: np.ndarray  # index into ``chunks``
    framework_read: np.ndarray  # whether the requirement's framework reads the document's language


@dataclass(frozen=True)
class Fitted:
    """A tagger's fitted models: each framework's profiles and the scope model, by language."""

    profiles: dict[tuple[int, str], ProfileSimilarity]
    scopes: dict[str, ScopeModel]


class Tagger(Decider):
    """Scores extracted documents against the in-scope requirements of the given catalogs, with
    the catalog profiles alone (cold start) or blended with a supervised model.

    Each framework's terms are weighed among all of its own requirements (every level): what
    sets one ISO clause apart from the others, not from CMMI practices. A document's scores for
    one framework therefore do not depend on which others are assessed, or at which level."""

    def __init__(
        self,
        catalogs: list[tuple[Catalog, int | None]],
        settings: TaggerSettings | None = None,
        supervised: SupervisedModel | None = None,
        fitted: Fitted | None = None,
    ):
        """``fitted``: the profiles and scope models another tagger of the same catalogs, settings
        and model has built (``fitted()``), taken as they are."""
        super().__init__(catalogs, settings)
        # Profiles and scope in each language, built when a document in it is first scored; each
        # catalog's own language now, so that a catalog the classifier cannot use fails at once.
        self._profiles: dict[tuple[int, str], ProfileSimilarity] = dict(fitted.profiles) if fitted else {}
        self._scopes: dict[str, ScopeModel] = dict(fitted.scopes) if fitted else {}
        self._looked_up: dict[str, frozenset[str]] = {}
        for position, (catalog, _) in enumerate(catalogs):
            self._profile(position, catalog.languages[0])
        self.supervised = supervised
        # For each requirement, the column of its label class in the supervised model (-1: none).
        self.columns = np.array([self._column(fw, label_class(fw, rid)) for fw, rid in self.keys], dtype=int)

    def fitted(self) -> Fitted:
        """The profiles and scope models built so far (what a process receiving this tagger's
        scorer would otherwise build again)."""
        return Fitted(dict(self._profiles), dict(self._scopes))

    def _column(self, framework: str, label: str) -> int:
        column = self.supervised.column(framework, label) if self.supervised is not None else None
        return -1 if column is None else column

    def _profile(self, position: int, language: str) -> ProfileSimilarity:
        """A framework's requirement profiles in one language, with its terms weighed among all of
        its own requirements (every level)."""
        if (position, language) not in self._profiles:
            catalog, level = self.catalogs[position]
            catalog = catalog.in_language(language)
            every = catalog.in_scope(max(catalog.levels) if catalog.levels else None)
            texts = {requirement.id: profile_text(catalog, requirement) for requirement in every}
            assessed = catalog.in_scope(level)
            try:
                model = ProfileSimilarity(language=language).fit(
                    [texts[r.id] for r in assessed], [r.id for r in assessed], list(texts.values()))
            except ValueError:
                raise CatalogError(f"{catalog.source or catalog.id}: its requirements have no words the classifier "
                                   f"can use in {language}; give them titles, keywords or phrases") from None
            self._profiles[(position, language)] = model
        return self._profiles[(position, language)]

    def _scope(self, language: str) -> ScopeModel:
        if language not in self._scopes:
            readers = [catalog.in_language(language) for catalog, _ in self.catalogs if catalog.reads(language)]
            shown = {regime.id: regime.title for regime in bundled_regimes()}
            self._scopes[language] = ScopeModel(readers, bundled_regimes(language), language, shown)
        return self._scopes[language]

    def _terms_looked_up(self, language: str) -> frozenset[str]:
        """Every term a model that reads texts in ``language`` looks up: the profiles of each
        framework that reads it, the supervised model's, the scope model's. A text's counts keep
        only these: most of a long text's distinct terms (its word pairs above all) are in none of
        them, and each model would look every one up again."""
        if language not in self._looked_up:
            vocabularies = [self._profile(position, language).vectorizer_.vocabulary_
                            for position in range(len(self.catalogs))
                            if self.reading_language(position, language) == language]
            vocabularies.append(self._scope(language).similarity.vectorizer_.vocabulary_)
            if self.supervised is not None and self.supervised.language == language:
                vocabularies.append(self.supervised.vocabulary)
            self._looked_up[language] = frozenset().union(*vocabularies)
        return self._looked_up[language]

    def _counts(self, text: str, language: str, written: SurfaceForms | None = None) -> Counter[str]:
        """How often each term of the text occurs, of the terms some model looks up; from the words
        ``written`` (the same text's) has found, where it can tell."""
        counted = (written.counts() if written is not None else None) or analyzer(language).counts(text)
        looked_up = self._terms_looked_up(language)
        kept = list(filter(looked_up.__contains__, counted))
        found: Counter[str] = Counter()
        dict.update(found, zip(kept, map(counted.__getitem__, kept), strict=True))  # C loops, no comprehension
        return found

    def _supervised_reads(self, language: str) -> bool:
        """The supervised model reads documents written in its language (English: also those whose
        language could not be told)."""
        return self.supervised is not None and self.supervised.language == told(language, "en")

    def reading_language(self, position: int, language: str) -> str | None:
        """The language a framework reads a text in: the text's own where its catalog reads it, the
        catalog's own where the text's could not be told; None where the catalog cannot read it."""
        catalog = self.catalogs[position][0]
        language = told(language, catalog.languages[0])
        return language if language in catalog.languages else None

    def score(self, extract: Extract) -> DocumentScores:
        """Every requirement this document scores at least the near-miss floor for, on its own."""
        settings = self.settings
        readable = readable_text(extract)
        forms: dict[str, SurfaceForms] = {}  # each language's terms as the document writes them

        def written_in(language: str) -> SurfaceForms:
            if language not in forms:
                forms[language] = SurfaceForms(readable, language)
            return forms[language]

        # Where every section is substantive, the whole document is read as it is named.
        read = self.read(extract, written_in if substantive_sections(extract) == extract.sections else None)
        whole = read.text
        scores = 1.0 / (1.0 + np.exp(-(read.cosine - settings.profile_center) / settings.profile_width))
        scores = np.where(read.framework_read, scores, 0.0)

        supervised_terms: dict[int, tuple[str, ...]] = {}
        if self.supervised is not None and (self.columns >= 0).any() and self._supervised_reads(extract.language):
            language = self.supervised.language
            counted = read.counts.get((0, language)) or self._counts(whole, language)
            features = self.supervised.features_of_counts([counted])
            probability = self.supervised.probabilities(features)[0]
            known = (self.columns >= 0) & read.framework_read
            weight = settings.supervised_weight
            scores = np.where(known, weight * probability[self.columns] + (1 - weight) * scores, scores)
            for column in set(self.columns[known & (scores >= settings.near_miss_floor)]):
                supervised_terms[column] = tuple(map(written_in(self.supervised.language),
                                                     self.supervised.top_terms(features, column, settings.top_terms)))

        activity = record_of(extract.document.path, extract.metadata.title)
        recorded = np.array([activity in kinds for kinds in self.records_of], dtype=bool) & read.framework_read
        scores = np.where(recorded, np.maximum(scores, settings.record_score), scores)
        # A training record's "Training record" table is its content, not sign-off furniture.
        own_text = extract.sections if activity else substantive_sections(extract)
        candidates = []
        for index in np.flatnonzero(scores >= settings.near_miss_floor):
            from_section = not recorded[index] and read.from_section[index]
            row = 1 + read.best_section[index] if from_section else 0
            framework, requirement = self.keys[index]
            position = self.framework_of[index]
            matrix, matrix_row, language = read.vectors[(row, position)]
            explanation: tuple[str, ...] = (f"{activity} record",) if recorded[index] else ()
            explanation += supervised_terms.get(self.columns[index], ())[:3]
            profile = self._profile(position, language)
            top = profile.top_terms(matrix, matrix_row, index - self.spans[position][0], settings.top_terms)
            explanation += tuple(t for t in map(written_in(language), top) if t not in explanation)
            candidates.append(
                Evidence(
                    path=extract.document.path,
                    framework=framework,
                    requirement=requirement,
                    score=round(float(scores[index]), 4),
                    locator=read.chunks[read.best_section[index]][0] if from_section else "",
                    terms=explanation[: settings.top_terms],
                )
            )
        scope_language = next((language for (row, language) in read.counts if row == 0), None)
        own = "\n".join(s.text for s in own_text)
        own_words = count_words(own)
        return DocumentScores(
            path=extract.document.path,
            kind=document_kind(extract.document.path, extract.metadata.title, (own,), language=extract.language,
                               focused=self._focused(scores), own_words=own_words),
            scope=self._scope(scope_language).scope(read.counts[(0, scope_language)]) if scope_language else _NO_SCOPE,
            activity=activity,
            content_words=_content_words(own_text, own_words),
            candidates=Candidates.of(extract.document.path, candidates),
        )

    def read(self, extract: Extract, as_written: Callable[[str], SurfaceForms] | None = None) -> Reading:
        """The document's profile similarities: each framework reads the whole document, and each
        of its sections, in the language it is written in (a Spanish manual's English appendix is
        compared with the English profiles; a section in a language the framework cannot read is
        read as the document is). ``as_written``: the whole document's terms as it writes them, in
        each language, where they are to be named too (its words are then found once)."""
        settings = self.settings
        chunks = _chunks(extract, settings.min_section_chars, settings.max_section_chars)
        header = document_header(extract)
        units = [(document_text(extract), extract.language)] + [(header + text, language or extract.language)
                                                                for _, text, language in chunks]
        counts: dict[tuple[int, str], Counter[str]] = {}
        cosines = np.zeros((len(units), len(self.keys)))
        vectors: dict[tuple[int, int], tuple] = {}
        for position, (first, end) in enumerate(self.spans):
            rows_in: dict[str, list[int]] = {}
            for row, (_, written_in) in enumerate(units):
                language = (self.reading_language(position, written_in)
                            or self.reading_language(position, extract.language))
                if language is not None:
                    rows_in.setdefault(language, []).append(row)
            for language, rows in rows_in.items():
                for row in rows:
                    if (row, language) not in counts:
                        counts[(row, language)] = self._counts(
                            units[row][0], language, as_written(language) if as_written and row == 0 else None)
                model = self._profile(position, language)
                matrix = model.transform_counts([counts[(row, language)] for row in rows])
                cosines[rows, first:end] = model.similarity(matrix)
                for i, row in enumerate(rows):
                    vectors[(row, position)] = (matrix, i, language)
        document_cosine = cosines[0]
        if len(chunks) > 1:
            best_section = cosines[1:].argmax(axis=0)
            cosine = np.maximum(document_cosine, cosines[1:].max(axis=0) * settings.section_weight)
        else:
            best_section = np.zeros(len(self.keys), dtype=int)
            cosine = document_cosine
        framework_read = np.array([(0, p) in vectors for p in range(len(self.catalogs))], dtype=bool)
        return Reading(units[0][0], chunks, counts, vectors, cosine, cosine > document_cosine, best_section,
                       framework_read[self.framework_of])

    def _focused(self, scores: np.ndarray) -> bool:
        """Whether one label class (an ISO clause, a CMMI practice area) stands out in a framework:
        its best score at least twice that of any other class."""
        for framework in self.frameworks:
            best: dict[str, float] = {}
            for (fw, requirement), value in zip(self.keys, scores, strict=True):
                if fw == framework:
                    label = label_class(fw, requirement)
                    best[label] = max(best.get(label, 0.0), float(value))
            ranked = sorted(best.values(), reverse=True) + [0.0, 0.0]
            if ranked[0] >= self.settings.near_miss_floor and ranked[0] >= 2 * ranked[1]:
                return True
        return False

    def evidence(self, extract: Extract) -> list[Evidence]:
        """One document classified on its own, as a folder holding only it would be."""
        return list(self.decide([self.score(extract)])[0].evidence)


# The title, file name and folder say what a document is more reliably than pages of body text
# (a CAPA training questionnaire is about CAPA but is a training record); repeating them is their
# weight as a feature. 1 -> 5 raised leave-one-source-out precision, ISO 0.77 -> 0.85 and CMMI
# 0.64 -> 0.71 (docs/accuracy.md); more made a file name outweigh its content.
HEADER_WEIGHT = 5


def document_header(extract: Extract) -> str:
    """Title, file name and folder as words. The rest of a path says where a collection lives,
    not what the document is."""
    name_and_folder = "/".join(extract.document.path.split("/")[-2:])
    return f"{extract.metadata.title}\n{path_words(name_and_folder)}\n" * HEADER_WEIGHT


def readable_text(extract: Extract) -> str:
    """The header the classifier reads and every section: where the terms behind a score are
    written, and how."""
    return document_header(extract) + "\n".join(s.text for s in extract.sections)


def document_text(extract: Extract) -> str:
    """What the supervised model reads: the header and the substantive text."""
    return document_header(extract) + "\n".join(s.text for s in substantive_sections(extract))


# A note to the author where content is still to come ("TODO: Write this document based off of ...") is
# not content: a page of such notes has no words of its own.
_AUTHOR_MARKERS = ("TODO", "FIXME", "TBD")
_AUTHOR_NOTE = re.compile(rf"(?:^|\n)[ \t>*-]*(?:{'|'.join(_AUTHOR_MARKERS)})\b[^\n]*")


def _content_words(sections: Sequence[Section], words: int) -> int:
    """How many of the ``words`` of these sections are not in notes to the author."""
    text = " ".join(s.text for s in sections)
    if not any(marker in text for marker in _AUTHOR_MARKERS):  # no note: the pattern need not scan the text
        return words
    return count_words(_AUTHOR_NOTE.sub(" ", text))


# Document-control furniture that every controlled document carries: it says the document is
# controlled, not what it is evidence for, so it is left out of scoring. Headings are read after
# their number: "1.5 Reference Documents" lists other documents' names as much as "References"
# does (a procedure's "SDLC Procedure" there had made it read as design).
_ADMINISTRATIVE = re.compile(
    r"^[\W\d]*(approv|sign[- ]?off|signature|revision|change (history|log|record)"
    r"|document (history|control|information)"
    r"|version (history|control)|history of changes|amendment|training record|acknowledg|distribution"
    r"|(table of )?contents\b|references?\b|definitions?\b|glossary|abbreviations|acronyms|terms and definitions"
    r"|terminology)",
    re.IGNORECASE,
)


def substantive_sections(extract: Extract) -> tuple[Section, ...]:
    """The sections that carry content, or all of them when every one looks administrative."""
    kept = tuple(s for s in extract.sections if not _ADMINISTRATIVE.match(s.locator))
    return kept or extract.sections


def _chunks(extract: Extract, min_chars: int, max_chars: int) -> list[tuple[str, str, str]]:
    """Sections joined until each has some substance: (the first one's locator, the text, the
    language most of it is written in where that is not the document's, else "")."""
    chunks: list[tuple[str, str, str]] = []
    parts: list[Section] = []
    size = 0
    for section in substantive_sections(extract):
        parts.append(section)
        size += len(section.text)
        if size >= min_chars:
            chunks.append(_chunk(parts, max_chars))
            parts, size = [], 0
    if parts:
        if chunks and size < min_chars:
            last = chunks.pop()
            chunks.append((last[0], (last[1] + "\n" + "\n".join(p.text for p in parts))[:max_chars], last[2]))
        else:
            chunks.append(_chunk(parts, max_chars))
    return chunks


def _chunk(parts: list[Section], max_chars: int) -> tuple[str, str, str]:
    written: dict[str, int] = {}
    for part in parts:
        written[part.language] = written.get(part.language, 0) + len(part.text)
    return parts[0].locator, "\n".join(p.text for p in parts)[:max_chars], max(written, key=written.__getitem__)


_NO_SCOPE = Scope("", 0.0, ())  # a language no regime is written in: every document is in scope
