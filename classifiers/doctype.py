"""What kind of document a file is, from its name and title: a blank template, a procedure or policy
(documented information to maintain), a record (evidence that something was done), or unknown.

Assessment needs this because ISO 9001 asks for records where it says "retain": an audit procedure
alone does not show that audits happen.
"""

from __future__ import annotations

import re

from gapscan.classifiers.analysis import path_words

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


def document_kind(path: str, title: str = "") -> str:
    """Judged from the file name, its folder and the title; folders further up name collections
    ("QMS-Template", "records") more often than they describe the document."""
    name_and_folder = "/".join(path.split("/")[-2:])
    words = f"{path_words(name_and_folder)} {title}".lower()
    if _TEMPLATE.search(words):
        return TEMPLATE
    if _RECORD.search(words):
        return RECORD
    if _PROCEDURE.search(words):
        return PROCEDURE
    return OTHER


def counts_as_record(kind: str) -> bool:
    return kind in (RECORD, OTHER)
