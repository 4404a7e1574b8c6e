"""The kinds of document the classifier tells apart, and what each kind counts as when a
requirement is assessed (``classifiers.doctype`` says which kind a document is)."""

from __future__ import annotations

RECORD, PROCEDURE, POLICY, PLAN, TEMPLATE, REFERENCE, OUT_OF_SCOPE, OTHER = (
    "record", "procedure", "policy", "plan", "template", "reference", "out_of_scope", "other",
)
KINDS = (RECORD, PROCEDURE, POLICY, PLAN, TEMPLATE, REFERENCE, OUT_OF_SCOPE, OTHER)


def counts_as_record(kind: str) -> bool:
    return kind == RECORD


def counts_as_document(kind: str) -> bool:
    """A maintained document: a procedure, policy or plan, not a record of one event."""
    return kind in (PROCEDURE, POLICY, PLAN, OTHER)
