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


# Records of an activity are evidence for the requirements a catalog lists under ``records_of``,
# whatever their subject: a training questionnaire on CAPA is a training record.
ACTIVITIES = ("training",)
_RECORD_NOUNS = frozenset(
    "record records log logs register questionnaire questionnaires quiz quizzes attendance sheet sheets "
    "certificate certificates checklist checklists".split()
)
# Names end in their head noun: "SOP-012 training record" is a record, "training records procedure",
# "training plan" and "training presentation" are not.
_OTHER_HEADS = frozenset(
    "procedure procedures policy policies sop sops process processes manual instruction instructions "
    "guideline guidelines standard standards handbook plan plans presentation slides course courses "
    "material materials matrix needs analysis".split()
)
_NOT_A_HEAD = frozenset("template templates form forms example sample blank draft final copy signed completed".split())
# "Training" in another sense: an auditor's checklist on training, a supplier's, a model's.
_OTHER_TRAINING = frozenset("audit audits supplier suppliers vendor vendors model models ml dataset datasets data".split())


def _plain(text: str, keep: str = "A-Za-z0-9") -> str:
    """``InternalAudit_report-2024`` -> ``internal audit report 2024``."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.sub(f"[^{keep}]+", " ", spaced).lower()


def _words(text: str) -> list[str]:
    return [w for w in _plain(text, "A-Za-z").split() if w not in _NOT_A_HEAD]


def _name_words(path: str, title: str) -> str:
    """The file name, its folder and the title as lower-case words; folders further up name
    collections ("QMS-Template", "records") more often than they describe the document. Digits
    stay: "review 2024", "Q3"."""
    name_and_folder = "/".join(path.split("/")[-2:]).rsplit(".", 1)[0]
    return f"{_plain(name_and_folder)} {title.lower()}"


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
    """The activity this document records, when its name or title says so: "questionnaire.txt" in
    "training-capa/", "SOP-012 training record.pdf", a document titled "Training attendance sheet"."""
    parts = path.split("/")
    folder = _words(parts[-2]) if len(parts) > 1 else []
    name = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    # "Training record - ISO awareness": what follows a spaced dash is the subject, not the head.
    segments = [_words(part) for text in (name, title) for part in re.split(r"\s[-\u2013\u2014]\s", text)]
    every_word = set(folder).union(*segments)
    if _OTHER_TRAINING & every_word or not {"training", "trainings"} & every_word:
        return None
    for words in segments:
        heads = [w for w in words if w in _RECORD_NOUNS or w in _OTHER_HEADS]
        if heads:
            return "training" if heads[-1] in _RECORD_NOUNS else None
    return None
