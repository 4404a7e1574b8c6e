"""The supervised model: one-vs-rest logistic regression on TF-IDF features of whole documents,
trained from labelled documents at label granularity (ISO clause at level 2, CMMI practice area).

The saved form is one ``.npz`` file of plain arrays plus a JSON string (loaded with
``allow_pickle=False``: loading a model can never run code). It records its format version, the
library versions, the catalog versions and a hash of the training data.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gapscan.classifiers.analysis import analyzer, count_matrix
from gapscan.scanner.common.errors import GapscanError

# scikit-learn (and SciPy) take seconds to import: a model is loaded, and fingerprinted, by a rescan
# that scores nothing, so they are imported where a model counts terms or is trained.
if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

FORMAT = "gapscan.model/1"


class ModelError(ValueError, GapscanError):
    """A model file that cannot be used: unreadable, another format, or inconsistent arrays."""


@dataclass(frozen=True)
class TrainingSettings:
    c: float = 1.0  # inverse regularisation strength of each logistic regression
    min_df: int = 2  # a term must occur in this many training documents
    max_features: int = 20_000


@dataclass(frozen=True, eq=False)
class SupervisedModel:
    vocabulary: tuple[str, ...]
    idf: np.ndarray
    classes: tuple[tuple[str, str], ...]  # (framework, label class)
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    info: dict = field(default_factory=dict)
    language: str = "en"  # the language of its terms: it reads documents written in it
    _counter: CountVectorizer | None = field(init=False, repr=False)  # made by the first ``features``
    _column: dict[tuple[str, str], int] = field(init=False, repr=False)  # made by __post_init__
    _column_of: dict[str, int] | None = field(init=False, repr=False)  # term -> feature, made by the first use

    def __post_init__(self) -> None:
        # Kept in column order: ``features @ coef.T`` then reads it as it is, where a row-order
        # array is copied at each product.
        object.__setattr__(self, "coef", np.asfortranarray(self.coef))
        object.__setattr__(self, "_counter", None)
        object.__setattr__(self, "_column_of", None)
        object.__setattr__(self, "_column", {key: i for i, key in enumerate(self.classes)})

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415  (see above)

        if self._counter is None:
            vocabulary = {t: i for i, t in enumerate(self.vocabulary)}
            counter = CountVectorizer(analyzer=analyzer(self.language).terms, vocabulary=vocabulary)
            object.__setattr__(self, "_counter", counter)
        assert self._counter is not None
        return self._weighted(self._counter.transform(texts))

    def features_of_counts(self, counts: list[Counter[str]]) -> sparse.csr_matrix:
        """``features`` of texts given as their terms' counts (``Counter(analyzer(language).terms(text))``):
        the same numbers, without reading the texts again."""
        if self._column_of is None:
            object.__setattr__(self, "_column_of", {t: i for i, t in enumerate(self.vocabulary)})
        assert self._column_of is not None
        matrix = count_matrix(counts, self._column_of, np.int64)  # CountVectorizer's dtype
        return self._weighted(matrix)

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        from gapscan.classifiers.similarity import unit_rows  # noqa: PLC0415  (see above)

        counts = counts.astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)  # sublinear term frequency
        return unit_rows(counts.multiply(self.idf).tocsr(), copy=False)

    def probabilities(self, features: sparse.csr_matrix) -> np.ndarray:
        """(texts, classes): the probability that each text (as ``features``) is evidence for each class."""
        logits = features @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def column(self, framework: str, label: str) -> int | None:
        return self._column.get((framework, label))

    def top_terms(self, features: sparse.csr_matrix, column: int, k: int) -> tuple[str, ...]:
        """The terms of one text that pushed its score for one class up the most."""
        row = features.tocsr()
        contribution = row.data * self.coef[column, row.indices]
        order = [i for i in np.argsort(-contribution)[:k] if contribution[i] > 0]
        return tuple(self.vocabulary[row.indices[i]] for i in order)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**self.info, "format": FORMAT, "classes": [list(c) for c in self.classes], "language": self.language}
        with open(path, "wb") as handle:
            np.savez_compressed(
                handle,
                meta=np.array(json.dumps(meta, sort_keys=True)),
                vocabulary=np.array(self.vocabulary, dtype=np.str_),
                idf=self.idf.astype(np.float32),
                # Half precision keeps three significant digits of each weight, more than the
                # fit is sure of, at half the size of the package's model file.
                coef=self.coef.astype(np.float16),
                intercept=self.intercept.astype(np.float32),
            )

    @classmethod
    def load(cls, path: Path) -> SupervisedModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in ("vocabulary", "idf", "coef", "intercept")}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: not a gapscan model ({exc})") from exc
        if meta.get("format") != FORMAT:
            raise ModelError(f"{path}: model format {meta.get('format')!r}, this gapscan reads {FORMAT!r}")
        classes = tuple((f, c) for f, c in meta.pop("classes"))
        language = str(meta.pop("language", "en"))  # models saved before languages were English
        n_classes, n_features = len(classes), len(arrays["vocabulary"])
        if arrays["coef"].shape != (n_classes, n_features) or arrays["idf"].shape != (n_features,):
            raise ModelError(f"{path}: arrays do not match ({arrays['coef'].shape} for {n_classes} classes)")
        return cls(
            vocabulary=tuple(str(t) for t in arrays["vocabulary"]),
            idf=arrays["idf"],
            classes=classes,
            coef=arrays["coef"].astype(np.float32),
            intercept=arrays["intercept"],
            info=meta,
            language=language,
        )


def train(
    texts: list[str],
    labels: list[dict[str, frozenset[str]]],
    info: dict,
    settings: TrainingSettings | None = None,
    language: str = "en",
    *,
    terms: Callable[[str], list[str]] | None = None,
) -> SupervisedModel:
    """Fit one logistic regression per label class seen in ``labels`` (framework -> classes), on
    texts written in ``language``. ``terms``: the texts' terms, ``language``'s analyzer unless a
    caller that trains on the same texts again and again remembers them."""
    from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415  (see above)
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    settings = settings or TrainingSettings()
    min_df = min(settings.min_df, max(1, len(texts) // 2))  # a handful of labelled documents still trains
    counter = CountVectorizer(analyzer=terms or analyzer(language).terms, min_df=min_df,
                              max_features=settings.max_features)
    counts = counter.fit_transform(texts)
    vocabulary = tuple(counter.get_feature_names_out())
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + len(texts)) / (1 + document_frequency)) + 1.0).astype(np.float32)
    # A class needs positive and negative examples; one every document has teaches nothing.
    classes = sorted(
        (f, c) for f, c in {(f, c) for item in labels for f, cs in item.items() for c in cs}
        if not all(c in item.get(f, ()) for item in labels)
    )
    model = SupervisedModel(vocabulary, idf, tuple(classes), np.zeros((0, len(vocabulary))), np.zeros(0), {}, language)
    features = model._weighted(counts)  # the features of ``texts``, counted once
    coef = np.zeros((len(classes), len(vocabulary)), dtype=np.float32)
    intercept = np.zeros(len(classes), dtype=np.float32)
    for row, (framework, label) in enumerate(classes):
        target = np.array([label in item.get(framework, ()) for item in labels], dtype=int)
        regression = LogisticRegression(C=settings.c, class_weight="balanced", solver="liblinear")
        regression.fit(features, target)
        coef[row], intercept[row] = regression.coef_[0], regression.intercept_[0]
    info = {
        **info,
        "documents": len(texts),
        "settings": {"c": settings.c, "min_df": settings.min_df, "max_features": settings.max_features},
        "libraries": {
            "python": platform.python_version(),
            **{name: version(name) for name in ("scikit-learn", "numpy", "scipy", "PyStemmer")},
        },
    }
    return SupervisedModel(vocabulary, idf, tuple(classes), coef, intercept, info, language)
