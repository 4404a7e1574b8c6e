"""Requirement profiles: the text a requirement is recognised by, built from its catalog entry."""

from __future__ import annotations

from gapscan.mappings import Catalog, Requirement


def profile_text(catalog: Catalog, requirement: Requirement) -> str:
    """Title, keywords and typical evidence weigh most; the intent, our exemplar phrases and the
    parent's title and keywords give context. Repetition is how TF-IDF is told what matters."""
    parent = catalog.parent_of(requirement)
    parts = [
        requirement.title,
        requirement.title,
        requirement.intent,
        *requirement.typical_evidence,
        *requirement.typical_evidence,
        *requirement.keywords,
        *requirement.keywords,
        *requirement.phrases,
    ]
    if parent is not None:
        parts += [parent.title, *parent.keywords]
    return "\n".join(parts)
