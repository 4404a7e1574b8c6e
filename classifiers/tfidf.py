"""The TF-IDF classifier: documents and their sections compared with requirement profiles.

``ProfileSimilarity`` is a scikit-learn estimator: fitted on profile texts with their requirement
keys as labels, ``decision_function`` gives the cosine similarity of any text to every profile.
``Tagger`` applies it to extracted documents: it scores the whole document (with its title and file
name) and each section, keeps the better of the two per requirement, and explains each score by
the terms that contributed most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from gapscan.classifiers.analysis import SurfaceForms, path_words, terms
from gapscan.classifiers.doctype import record_of
from gapscan.classifiers.evidence import Check, Evidence
from gapscan.classifiers.labels import label_class
from gapscan.classifiers.profiles import profile_text
from gapscan.classifiers.supervised import SupervisedModel
from gapscan.mappings import Catalog, CatalogError
from gapscan.scanner.documents import Extract, Section


class ProfileSimilarity(BaseEstimator):
    """Cosine similarity between texts and one profile text per class."""

    def __init__(self, sublinear_tf: bool = True, max_df: float = 0.5):
        self.sublinear_tf = sublinear_tf
        self.max_df = max_df

    def fit(self, X: list[str], y: list[str], vocabulary_texts: list[str] | None = None) -> ProfileSimilarity:
        """``vocabulary_texts`` (default: ``X``) set the terms and their weights."""
        vocabulary_texts = X if vocabulary_texts is None else vocabulary_texts
        # With only a couple of profiles (a small user catalog) every term is "frequent".
        max_df = self.max_df if len(vocabulary_texts) >= 3 else 1.0
        self.vectorizer_ = TfidfVectorizer(analyzer=_terms, sublinear_tf=self.sublinear_tf, max_df=max_df, dtype=np.float32)
        try:
            self.vectorizer_.fit(vocabulary_texts)
        except ValueError:  # every term is in most profiles (a small, uniform catalog): keep them all
            self.vectorizer_.set_params(max_df=1.0).fit(vocabulary_texts)
        self.profiles_ = self.vectorizer_.transform(X)
        self.classes_ = np.asarray(y)
        self.features_ = self.vectorizer_.get_feature_names_out()
        return self

    def transform(self, X: list[str]) -> sparse.csr_matrix:
        return self.vectorizer_.transform(X)

    def decision_function(self, X: list[str]) -> np.ndarray:
        return similarity(self.transform(X), self.profiles_)

    def top_terms(self, vector: sparse.csr_matrix, class_index: int, k: int = 5) -> tuple[str, ...]:
        """The shared terms that contributed most to one text's similarity with one class."""
        contribution = vector.multiply(self.profiles_[class_index]).tocsr()
        if contribution.nnz == 0:
            return ()
        order = np.argsort(-contribution.data)[:k]
        return tuple(str(self.features_[contribution.indices[i]]) for i in order)


def _terms(text: str | list[str]) -> list[str]:
    """A text's terms; a list is terms already (one text scored against several frameworks)."""
    return text if isinstance(text, list) else terms(text)


def similarity(texts: sparse.csr_matrix, profiles: sparse.csr_matrix) -> np.ndarray:
    return (normalize(texts) @ profiles.T).toarray()


@dataclass(frozen=True)
class TaggerSettings:
    # A section shorter than this is joined to the next one: a lone heading is not evidence.
    min_section_chars: int = 400
    max_section_chars: int = 6000
    # How much a single section can carry: 1.0 takes the best section as it is.
    section_weight: float = 0.85
    # Profile similarity (cosine) becomes a score in [0, 1] through a logistic curve: a cosine of
    # ``profile_center`` scores 0.5; ``profile_width`` sets how steeply the score rises around it.
    profile_center: float = 0.18
    profile_width: float = 0.03
    # Where a supervised model knows the requirement's label class, its probability gets this weight.
    supervised_weight: float = 0.5
    # Chosen with `gapscan eval --cv source` on the shared corpus (docs/accuracy.md).
    threshold: float = 0.4  # at or above: a tag (the document is evidence) ...
    # ... if it also scores at least this share of the document's best score in that framework:
    # a document is evidence for what it is mainly about, not for everything it mentions.
    relative_cutoff: float = 0.8
    # A record of an activity (a training questionnaire) scores at least this for the requirements
    # its records evidence (``records_of`` in the catalog), and only those are tagged in its framework.
    record_score: float = 0.9
    # A document with fewer words of its own than this is never evidence, whatever its name says
    # ("internal-audit-report-2024.md" holding "TBD"); it can still be listed as a near miss.
    min_content_words: int = 15
    weak_threshold: float = 0.32  # at or above (below the threshold): weak evidence, a partial
    near_miss_floor: float = 0.15  # below: not worth listing as a near miss
    top_terms: int = 6


class Tagger:
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
    ):
        self.settings = settings or TaggerSettings()
        self.keys: list[tuple[str, str]] = []
        self.records_of: list[tuple[str, ...]] = []
        self.profiles: list[tuple[ProfileSimilarity, int]] = []  # one per framework, with its first key
        framework_of = []
        for position, (catalog, level) in enumerate(catalogs):
            every = catalog.in_scope(max(catalog.levels) if catalog.levels else None)
            texts = {requirement.id: profile_text(catalog, requirement) for requirement in every}
            assessed = catalog.in_scope(level)
            try:
                model = ProfileSimilarity().fit([texts[r.id] for r in assessed], [r.id for r in assessed],
                                                list(texts.values()))
            except ValueError:
                raise CatalogError(f"{catalog.source or catalog.id}: its requirements have no words the classifier "
                                   "can use; give them titles, keywords or phrases") from None
            self.profiles.append((model, len(self.keys)))
            for requirement in assessed:
                self.keys.append((catalog.id, requirement.id))
                self.records_of.append(requirement.records_of)
                framework_of.append(position)
        self.framework_of = np.array(framework_of, dtype=int)  # each requirement's place in ``profiles``
        self.supervised = supervised
        # For each requirement, the column of its label class in the supervised model (-1: none).
        self.columns = np.array([self._column(fw, label_class(fw, rid)) for fw, rid in self.keys], dtype=int)

    def _column(self, framework: str, label: str) -> int:
        column = self.supervised.column(framework, label) if self.supervised is not None else None
        return -1 if column is None else column

    def evidence(self, extract: Extract, explain: bool = False) -> list[Evidence]:
        """Every requirement this document scores at least the near-miss floor for; with
        ``explain``, each carries the checks behind its tag decision."""
        settings = self.settings
        chunks = _chunks(extract, settings.min_section_chars, settings.max_section_chars)
        header = document_header(extract)
        whole = document_text(extract)
        tokens = [terms(text) for text in [whole] + [header + text for _, text in chunks]]
        vectors = [model.transform(tokens) for model, _ in self.profiles]
        cosines = np.hstack([similarity(v, model.profiles_) for v, (model, _) in zip(vectors, self.profiles)])
        document_cosine = cosines[0]
        if len(chunks) > 1:
            best_section = cosines[1:].argmax(axis=0)
            cosine = np.maximum(document_cosine, cosines[1:].max(axis=0) * settings.section_weight)
        else:
            best_section = np.zeros(len(self.keys), dtype=int)
            cosine = document_cosine
        scores = 1.0 / (1.0 + np.exp(-(cosine - settings.profile_center) / settings.profile_width))
        supervised_terms: dict[int, tuple[str, ...]] = {}
        if self.supervised is not None and (self.columns >= 0).any():
            features = self.supervised.features([whole])
            probability = self.supervised.probabilities(features)[0]
            known = self.columns >= 0
            weight = settings.supervised_weight
            scores = np.where(known, weight * probability[self.columns] + (1 - weight) * scores, scores)
            for column in set(self.columns[known & (scores >= settings.threshold)]):
                supervised_terms[column] = self.supervised.top_terms(features, column, settings.top_terms)

        activity = record_of(extract.document.path, extract.metadata.title)
        recorded = np.array([activity in kinds for kinds in self.records_of], dtype=bool)
        scores = np.where(recorded, np.maximum(scores, settings.record_score), scores)
        record_frameworks = {self.keys[i][0] for i in np.flatnonzero(recorded)}

        best_in_framework: dict[str, float] = {}
        for (framework, _), value in zip(self.keys, scores):
            best_in_framework[framework] = max(best_in_framework.get(framework, 0.0), float(value))
        # A training record's "Training record" table is its content, not sign-off furniture.
        own_text = extract.sections if activity else substantive_sections(extract)
        substantive = len(_WORD.findall(" ".join(s.text for s in own_text)))
        has_content = substantive >= settings.min_content_words
        as_written = SurfaceForms(readable_text(extract))
        found = []
        for index in np.flatnonzero(scores >= settings.near_miss_floor):
            from_section = not recorded[index] and len(chunks) > 1 and cosine[index] > document_cosine[index]
            row = 1 + best_section[index] if from_section else 0
            framework, requirement = self.keys[index]
            explanation = (f"{activity} record",) if recorded[index] else ()
            explanation += supervised_terms.get(self.columns[index], ())[:3]
            model, first = self.profiles[self.framework_of[index]]
            top = model.top_terms(vectors[self.framework_of[index]][row], index - first, settings.top_terms)
            explanation += tuple(t for t in top if t not in explanation)
            score, best = float(scores[index]), best_in_framework[framework]
            checks = (
                Check("threshold", score >= settings.threshold, score, settings.threshold),
                Check("relative", score >= settings.relative_cutoff * best, score, settings.relative_cutoff * best, best),
                Check("content", has_content, substantive, settings.min_content_words),
                Check("records", bool(recorded[index]) or framework not in record_frameworks, 0.0, 0.0),
            )
            found.append(
                Evidence(
                    path=extract.document.path,
                    framework=framework,
                    requirement=requirement,
                    score=round(score, 4),
                    locator=chunks[best_section[index]][0] if from_section else "",
                    terms=tuple(map(as_written, explanation[: settings.top_terms])),
                    tag=all(check.passed for check in checks),
                    checks=checks if explain else (),
                )
            )
        return found


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


# Document-control furniture that every controlled document carries: it says the document is
# controlled, not what it is evidence for, so it is left out of scoring.
_WORD = re.compile(r"[^\W\d_]{2,}")
_ADMINISTRATIVE = re.compile(
    r"^\W*(approv|sign[- ]?off|signature|revision|change (history|log|record)|document (history|control|information)"
    r"|version (history|control)|history of changes|amendment|training record|acknowledg|distribution"
    r"|(table of )?contents\b|references?\b|definitions?\b|glossary|abbreviations|acronyms|terms and definitions)",
    re.IGNORECASE,
)


def substantive_sections(extract: Extract) -> tuple[Section, ...]:
    """The sections that carry content, or all of them when every one looks administrative."""
    kept = tuple(s for s in extract.sections if not _ADMINISTRATIVE.match(s.locator))
    return kept or extract.sections


def _chunks(extract: Extract, min_chars: int, max_chars: int) -> list[tuple[str, str]]:
    """Sections joined until each has some substance; the locator is the first one's."""
    chunks: list[tuple[str, str]] = []
    locator, parts, size = "", [], 0
    for section in substantive_sections(extract):
        if not parts:
            locator = section.locator
        parts.append(section.text)
        size += len(section.text)
        if size >= min_chars:
            chunks.append((locator, "\n".join(parts)[:max_chars]))
            parts, size = [], 0
    if parts:
        if chunks and size < min_chars:
            last_locator, last_text = chunks.pop()
            chunks.append((last_locator, (last_text + "\n" + "\n".join(parts))[:max_chars]))
        else:
            chunks.append((locator, "\n".join(parts)[:max_chars]))
    return chunks
