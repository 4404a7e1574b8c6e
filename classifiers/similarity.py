"""Cosine similarity between texts and profile texts in one TF-IDF space, as a scikit-learn estimator."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from gapscan.classifiers.analysis import analyzer


class ProfileSimilarity(BaseEstimator):
    """Fitted on profile texts with a label per profile, ``decision_function`` gives the cosine
    similarity of any text to every profile. Texts are read in ``language``."""

    def __init__(self, sublinear_tf: bool = True, max_df: float = 0.5, language: str = "en"):
        self.sublinear_tf = sublinear_tf
        self.max_df = max_df
        self.language = language

    def fit(self, X: list[str], y: list, vocabulary_texts: list[str] | None = None) -> ProfileSimilarity:
        """``vocabulary_texts`` (default: ``X``) set the terms and their weights."""
        vocabulary_texts = X if vocabulary_texts is None else vocabulary_texts
        # With only a couple of profiles (a small user catalog) every term is "frequent".
        max_df = self.max_df if len(vocabulary_texts) >= 3 else 1.0
        self.vectorizer_ = TfidfVectorizer(analyzer=_Terms(self.language), sublinear_tf=self.sublinear_tf,
                                           max_df=max_df, dtype=np.float32)
        try:
            self.vectorizer_.fit(vocabulary_texts)
        except ValueError:  # every term is in most profiles (a small, uniform catalog): keep them all
            self.vectorizer_.set_params(max_df=1.0).fit(vocabulary_texts)
        self.profiles_ = self.vectorizer_.transform(X)
        self.classes_ = np.asarray(y)
        self.features_ = self.vectorizer_.get_feature_names_out()
        return self

    def transform(self, X: list) -> sparse.csr_matrix:
        return self.vectorizer_.transform(X)

    def decision_function(self, X: list) -> np.ndarray:
        return similarity(self.transform(X), self.profiles_)

    def top_terms(self, vector: sparse.csr_matrix, class_index: int, k: int = 5) -> tuple[str, ...]:
        """The shared terms that contributed most to one text's similarity with one class."""
        contribution = vector.multiply(self.profiles_[class_index]).tocsr()
        if contribution.nnz == 0:
            return ()
        order = np.argsort(-contribution.data)[:k]
        return tuple(str(self.features_[contribution.indices[i]]) for i in order)


class _Terms:
    """A text's terms in one language; a list is terms already (one text scored against several
    profiles)."""

    def __init__(self, language: str):
        self.analyzer = analyzer(language)

    def __call__(self, text: str | list[str]) -> list[str]:
        return text if isinstance(text, list) else self.analyzer.terms(text)


def similarity(texts: sparse.csr_matrix, profiles: sparse.csr_matrix) -> np.ndarray:
    return (normalize(texts) @ profiles.T).toarray()
