"""The collection-wide decision weighs each framework's scores in place, one framework at a time:
the baselines it finds are those of the plain computation over one matrix of every score."""

from __future__ import annotations

import numpy as np
import pytest

from gapscan.classifiers.decision import Candidates, Decider, DocumentScores, TaggerSettings
from gapscan.classifiers.doctype import Kind
from gapscan.classifiers.scope import Scope
from gapscan.scanner.config import Config
from gapscan.scanner.pipeline import select_catalogs


def plain_baseline(scores: np.ndarray, settings: TaggerSettings) -> np.ndarray:
    """Each requirement's baseline as the decision defines it, computed on a copy."""
    background = scores.copy()
    background[np.arange(len(scores)), scores.argmax(axis=1)] = np.nan
    counted = (~np.isnan(background)).sum(axis=0)
    overall = np.nanquantile(background, settings.baseline_quantile) if counted.any() else 0.0
    typical = np.zeros(scores.shape[1])
    some = counted > 0
    typical[some] = np.nanquantile(background[:, some], settings.baseline_quantile, axis=0)
    return (counted * typical + settings.baseline_prior * overall) / (counted + settings.baseline_prior)


def collection(decider: Decider, documents: int, seed: int) -> tuple[list[DocumentScores], np.ndarray]:
    """Documents with random candidates (some with none, some scores tied), and the matrix of
    every document's score for every requirement (0 where it has no candidate)."""
    rng = np.random.default_rng(seed)
    matrix = np.zeros((documents, len(decider.keys)))
    scored = []
    for row in range(documents):
        columns = np.flatnonzero(rng.random(len(decider.keys)) < rng.choice([0.0, 0.05, 0.3]))
        values = np.round(rng.uniform(0.15, 1.0, len(columns)), 1)  # rounded: ties
        matrix[row, columns] = values
        path = f"doc-{row}.md"
        scored.append(DocumentScores(path, Kind("procedure"), Scope("", 0.0, ()), None, 100,
                                     Candidates(path, [decider.keys[c] for c in columns], values,
                                                tuple(("", ()) for _ in columns))))
    return scored, matrix


@pytest.fixture(scope="module")
def decider() -> Decider:
    return Decider(select_catalogs(Config()))


@pytest.mark.parametrize(("documents", "seed"), [(1, 0), (2, 1), (40, 2), (300, 3)])
def test_each_frameworks_baseline_is_that_of_the_whole_matrix(decider, monkeypatch, documents, seed):
    scored, matrix = collection(decider, documents, seed)
    weighed = []
    in_place = Decider._baseline

    def recorded(self, scores):
        weighed.append(scores.copy())
        found = in_place(self, scores)
        weighed[-1] = (weighed[-1], found)
        return found

    monkeypatch.setattr(Decider, "_baseline", recorded)
    decider.decide(scored)
    assert len(weighed) == len(decider.spans)
    for (first, end), (scores, found) in zip(decider.spans, weighed, strict=True):
        assert np.array_equal(scores, matrix[:, first:end])
        assert np.array_equal(found, plain_baseline(matrix[:, first:end], decider.settings))


def test_a_collection_is_decided_the_same_whatever_its_order(decider):
    scored, _ = collection(decider, 120, 4)
    forward = {c.path: list(c.evidence) for c in decider.decide(scored)}
    backward = {c.path: list(c.evidence) for c in decider.decide(scored[::-1])}
    assert forward == backward
    assert any(e.tag for evidence in forward.values() for e in evidence)
