"""Whether a document is about a quality requirement at all, or mainly about another regime.

A shared drive holds an ISMS, a privacy programme, an employee handbook, contracts and regulatory
submissions beside the quality system. Their documents share words with quality requirements (a
security risk assessment speaks of risks and controls, a data-processing agreement of suppliers), so
a classifier that only looks for the closest requirement finds one. Here every document is compared,
in one TF-IDF space, with each framework's requirement profiles and with profiles of the
neighbouring regimes (``mappings/catalogs/*.regimes.toml``): a document that resembles a regime more
than any requirement of a framework is out of that framework's scope. An ISMS document-control
procedure still resembles ISO 9001 7.5 more than "information security" and stays in scope.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from gapscan.classifiers.profiles import profile_text
from gapscan.mappings import Catalog, Regime


@dataclass(frozen=True)
class Scope:
    """How much a document resembles its closest regime and each framework's closest requirement."""

    regime: str  # the closest regime's title
    regime_similarity: float
    frameworks: tuple[tuple[str, float], ...]  # (framework id, similarity to its closest requirement)

    def margin(self, framework: str) -> float:
        """Positive when the document is more about the framework than about the regime."""
        return dict(self.frameworks).get(framework, 0.0) - self.regime_similarity


def regime_text(regime: Regime) -> str:
    """Weighed like a requirement profile: title and keywords twice, then description and phrases."""
    return "\n".join([regime.title, regime.title, regime.description, *regime.keywords, *regime.keywords,
                      *regime.phrases])


class ScopeModel:
    """``catalogs`` and ``regimes`` written in ``language``, the language documents are read in.
    A regime is named by its title in ``shown_titles`` (by id) where given: reports stay in English."""

    def __init__(self, catalogs: list[Catalog], regimes: tuple[Regime, ...], language: str = "en",
                 shown_titles: dict[str, str] | None = None):
        texts, self.owners = [], []
        for catalog in catalogs:
            for requirement in catalog.in_scope(max(catalog.levels) if catalog.levels else None):
                texts.append(profile_text(catalog, requirement))
                self.owners.append(catalog.id)
        self.regimes = regimes
        self.titles = [(shown_titles or {}).get(regime.id, regime.title) for regime in regimes]
        texts += [regime_text(regime) for regime in regimes]
        # Imported here: a scope (the result) is read without scikit-learn, which is slow to import.
        from gapscan.classifiers.similarity import ProfileSimilarity  # noqa: PLC0415

        self.similarity = ProfileSimilarity(language=language).fit(texts, list(range(len(texts))))
        self.frameworks = tuple(dict.fromkeys(self.owners))
        owners = np.array(self.owners + [""] * len(regimes))
        self.columns = {framework: np.flatnonzero(owners == framework) for framework in self.frameworks}
        self.regime_columns = np.arange(len(self.owners), len(texts))

    def scope(self, counts: Counter[str]) -> Scope:
        """``counts``: how often each term of the document occurs as the classifier reads it (header
        and substantive text)."""
        cosines = self.similarity.decision_function_of_counts([counts])[0]
        if not self.regimes:
            return Scope("", 0.0, tuple((f, float(cosines[c].max())) for f, c in self.columns.items()))
        closest = int(cosines[self.regime_columns].argmax())
        return Scope(
            self.titles[closest],
            round(float(cosines[self.regime_columns][closest]), 4),
            tuple((f, round(float(cosines[c].max()), 4)) for f, c in self.columns.items()),
        )
