"""Cosine similarity between texts and profile texts in one TF-IDF space, as a scikit-learn estimator."""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from gapscan.classifiers.analysis import analyzer, count_matrix


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
        self._dense_profiles: np.ndarray | None = None  # made by the first ``top_terms``
        self._profiles_by_term: sparse.csr_matrix | None = None  # made by the first ``similarity``
        return self

    def transform(self, X: list) -> sparse.csr_matrix:
        terms = _Terms(self.language)
        return self.transform_counts([Counter(terms(text)) for text in X])

    def transform_counts(self, counts: list[Counter[str]]) -> sparse.csr_matrix:
        """The TF-IDF rows of texts given as term counts: what ``TfidfVectorizer.transform`` makes of
        their texts, the same numbers, with each distinct term looked up once (the vectorizer looks
        up every occurrence), and one text's counts shared by every profile set it is compared with."""
        matrix = count_matrix(counts, self.vectorizer_.vocabulary_, self.vectorizer_.dtype)
        # TfidfTransformer.transform's steps, in its order and precision.
        if self.sublinear_tf:
            np.log(matrix.data, matrix.data)
            matrix.data += 1.0
        matrix.data *= self.vectorizer_.idf_[matrix.indices]
        return unit_rows(matrix, copy=False)

    def decision_function(self, X: list) -> np.ndarray:
        return self.similarity(self.transform(X))

    def decision_function_of_counts(self, counts: list[Counter[str]]) -> np.ndarray:
        """``decision_function`` of texts given as term counts."""
        return self.similarity(self.transform_counts(counts))

    def similarity(self, texts: sparse.csr_matrix) -> np.ndarray:
        """The cosine similarity of each of ``texts`` (rows of ``transform_counts``) with each profile."""
        if self._profiles_by_term is None:
            # What ``texts @ self.profiles_.T`` would convert the transposed profiles to each time.
            self._profiles_by_term = sparse.csr_matrix(self.profiles_.T)
        return (unit_rows(texts) @ self._profiles_by_term).toarray()

    def top_terms(self, texts: sparse.csr_matrix, row: int, class_index: int, k: int = 5) -> tuple[str, ...]:
        """The shared terms that contributed most to the similarity of one text (a ``row`` of
        ``transform_counts``'s rows) with one class."""
        if self._dense_profiles is None:
            self._dense_profiles = self.profiles_.toarray()
        # The element-wise product of the two rows (``texts[row].multiply``), without its sparse
        # machinery: the text's terms in column order, those the profile shares.
        start, end = texts.indptr[row], texts.indptr[row + 1]
        terms = texts.indices[start:end]
        products = texts.data[start:end] * self._dense_profiles[class_index, terms]
        shared = products != 0
        data, indices = products[shared], terms[shared]
        if data.size == 0:
            return ()
        order = np.argsort(-data)[:k]
        return tuple(str(self.features_[indices[i]]) for i in order)


class _Terms:
    """A text's terms in one language; a list is terms already (one text scored against several
    profiles)."""

    def __init__(self, language: str):
        self.analyzer = analyzer(language)

    def __call__(self, text: str | list[str]) -> list[str]:
        return text if isinstance(text, list) else self.analyzer.terms(text)

    def __reduce__(self):
        """Pickled by its language: each process has its own analyzer (a stemmer and its lock)."""
        return (_Terms, (self.analyzer.language,))


def unit_rows(matrix: sparse.csr_matrix, copy: bool = True) -> sparse.csr_matrix:
    """``sklearn.preprocessing.normalize(matrix, copy=copy)`` of a CSR matrix of floats: each row
    scaled to length 1 by the routine normalize calls, without normalize's input checks, which
    cost more than the scaling of one document's rows (three times a document)."""
    if copy:
        matrix = matrix.copy()
    inplace_csr_row_normalize_l2(matrix)
    return matrix
