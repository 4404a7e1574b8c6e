"""The TF-IDF classifier: documents and their sections compared with requirement profiles.

``ProfileSimilarity`` is a scikit-learn estimator: fitted on profile texts with their requirement
keys as labels, ``decision_function`` gives the cosine similarity of any text to every profile.
``Tagger`` applies it to extracted documents: it scores the whole document (with its title and file
name) and each section, keeps the better of the two per requirement, and explains each score by
the terms that contributed most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from gapscan.classifiers.analysis import path_words, terms
from gapscan.classifiers.evidence import Evidence
from gapscan.classifiers.profiles import profile_text
from gapscan.mappings import Catalog
from gapscan.scanner.documents import Extract


class ProfileSimilarity(BaseEstimator):
    """Cosine similarity between texts and one profile text per class."""

    def __init__(self, sublinear_tf: bool = True, max_df: float = 0.5):
        self.sublinear_tf = sublinear_tf
        self.max_df = max_df

    def fit(self, X: list[str], y: list[str]) -> ProfileSimilarity:
        self.vectorizer_ = TfidfVectorizer(
            analyzer=terms, sublinear_tf=self.sublinear_tf, max_df=self.max_df, dtype=np.float32
        )
        self.profiles_ = self.vectorizer_.fit_transform(X)
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


def similarity(texts: sparse.csr_matrix, profiles: sparse.csr_matrix) -> np.ndarray:
    return (normalize(texts) @ profiles.T).toarray()


@dataclass(frozen=True)
class TaggerSettings:
    # A section shorter than this is joined to the next one: a lone heading is not evidence.
    min_section_chars: int = 400
    max_section_chars: int = 6000
    # How much a single section can carry: 1.0 takes the best section as it is.
    section_weight: float = 0.85
    threshold: float = 0.16  # at or above: a tag (the document is evidence)
    weak_threshold: float = 0.13  # at or above (below the threshold): weak evidence, a partial
    near_miss_floor: float = 0.08  # below: not worth listing as a near miss
    top_terms: int = 6


class Tagger:
    """Scores extracted documents against the in-scope requirements of the given catalogs."""

    def __init__(self, catalogs: list[tuple[Catalog, int | None]], settings: TaggerSettings | None = None):
        self.settings = settings or TaggerSettings()
        self.keys: list[tuple[str, str]] = []
        texts = []
        for catalog, level in catalogs:
            for requirement in catalog.in_scope(level):
                self.keys.append((catalog.id, requirement.id))
                texts.append(profile_text(catalog, requirement))
        self.model = ProfileSimilarity().fit(texts, [f"{fw}\t{rid}" for fw, rid in self.keys])

    def evidence(self, extract: Extract) -> list[Evidence]:
        """Every requirement this document scores at least the near-miss floor for."""
        settings = self.settings
        chunks = _chunks(extract, settings.min_section_chars, settings.max_section_chars)
        header = f"{extract.metadata.title}\n{path_words(extract.document.path)}\n"
        whole = header + extract.text
        texts = [whole] + [header + text for _, text in chunks]
        vectors = self.model.transform(texts)
        scores = similarity(vectors, self.model.profiles_)
        document_scores = scores[0]
        if len(chunks) > 1:
            section_scores = scores[1:]
            best_section = section_scores.argmax(axis=0)
            best = section_scores.max(axis=0) * settings.section_weight
            combined = np.maximum(document_scores, best)
        else:
            best_section = np.zeros(len(self.keys), dtype=int)
            combined = document_scores
        found = []
        for index in np.flatnonzero(combined >= settings.near_miss_floor):
            from_section = len(chunks) > 1 and combined[index] > document_scores[index]
            row = 1 + best_section[index] if from_section else 0
            framework, requirement = self.keys[index]
            found.append(
                Evidence(
                    path=extract.document.path,
                    framework=framework,
                    requirement=requirement,
                    score=round(float(min(combined[index], 1.0)), 4),
                    locator=chunks[best_section[index]][0] if from_section else "",
                    terms=self.model.top_terms(vectors[row], index, settings.top_terms),
                )
            )
        return found


def _chunks(extract: Extract, min_chars: int, max_chars: int) -> list[tuple[str, str]]:
    """Sections joined until each has some substance; the locator is the first one's."""
    chunks: list[tuple[str, str]] = []
    locator, parts, size = "", [], 0
    for section in extract.sections:
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
