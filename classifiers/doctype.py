"""What kind of document a file is, from its name and title: a blank template, a procedure or policy
(documented information to maintain), a record (evidence that something was done), or unknown.

Assessment needs this because ISO 9001 asks for records where it says "retain": an audit procedure
alone does not show that audits happen.
"""

from __future__ import annotations

import re


TEMPLATE, PROCEDURE, RECORD, OTHER = "template", "procedure", "record", "other"

_TEMPLATE = re.compile(r"\b(templates?|blank|forms?)\b")
_RECORD = re.compile(
    r"\b(records?|reports?|minutes|logs?|registers?|results?|matrix|evidence|findings"
    r"|survey|certificates?|signed|completed|review\s+\d{4}|\d{4}[-_ ]\d{2}|q[1-4])\b"
)
_PROCEDURE = re.compile(
    r"\b(procedures?|polic(y|ies)|sops?|process(es)?|manual|instructions?|guidelines?|standards?"
    r"|handbook|charter)\b"
)


# A record of an activity, named as such: "training-capa/questionnaire.txt", "Training log".
_ACTIVITY_RECORD = {
    "training": re.compile(
        r"\btraining\b.*\b(questionnaires?|quiz(zes)?|logs?|records?|checklists?|attendance|certificates?)\b"
        r"|\b(questionnaires?|quiz(zes)?|logs?|records?|checklists?|attendance|certificates?)\b.*\btraining\b"
    ),
}


def _name_words(path: str, title: str) -> str:
    """The file name, its folder and the title as lower-case words; folders further up name
    collections ("QMS-Template", "records") more often than they describe the document."""
    name_and_folder = "/".join(path.split("/")[-2:]).rsplit(".", 1)[0]
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name_and_folder)  # digits kept: "review 2024", "Q3"
    return f"{re.sub(r'[^A-Za-z0-9]+', ' ', spaced)} {title}".lower()


def document_kind(path: str, title: str = "") -> str:
    """Judged from the file name, its folder and the title."""
    words = _name_words(path, title)
    if _TEMPLATE.search(words):
        return TEMPLATE
    if _RECORD.search(words):
        return RECORD
    if _PROCEDURE.search(words):
        return PROCEDURE
    return OTHER


def counts_as_record(kind: str) -> bool:
    return kind in (RECORD, OTHER)


def counts_as_document(kind: str) -> bool:
    """A maintained document: a procedure, policy or plan, not a record of one event."""
    return kind in (PROCEDURE, OTHER)


def record_of(path: str, title: str = "") -> str | None:
    """The activity this document records, when its name says so: a training questionnaire on
    CAPA records training, whatever its questions are about."""
    words = _name_words(path, title)
    if _PROCEDURE.search(words):  # "records/training-procedure.docx" describes training, it records none
        return None
    return next((activity for activity, pattern in _ACTIVITY_RECORD.items() if pattern.search(words)), None)
