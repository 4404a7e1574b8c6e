"""What kind of document a file is, from its content as well as its name and title.

- ``record``: evidence that something was done: filled table rows, ticked boxes, a dated name;
- ``procedure``, ``policy``, ``plan``: documented information to maintain;
- ``template``: a blank form: placeholders such as ``<Date>``, ``[Name]``, ``{{owner}}``, ``xxx``,
  unfilled fields, tables with a header and no rows, unticked boxes, and little filled in;
- ``reference``: lists or maps many clauses or practices without being about one (a clause
  catalogue, an audit checklist, an appraisal database);
- ``out_of_scope``: mainly about another regime (set by the classifier, ``classifiers.scope``);
- ``other``: none of these.

Assessment needs this because ISO 9001 asks for records where it says "retain": an audit procedure
or a blank audit report does not show that audits happen. A template is never a record; a reference
is never evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

RECORD, PROCEDURE, POLICY, PLAN, TEMPLATE, REFERENCE, OUT_OF_SCOPE, OTHER = (
    "record", "procedure", "policy", "plan", "template", "reference", "out_of_scope", "other",
)
KINDS = (RECORD, PROCEDURE, POLICY, PLAN, TEMPLATE, REFERENCE, OUT_OF_SCOPE, OTHER)


@dataclass(frozen=True)
class Kind:
    """A document's kind and the signals it was judged by, in words a user can check."""

    kind: str
    signals: tuple[str, ...] = ()

    @property
    def is_evidence(self) -> bool:
        return self.kind not in (REFERENCE, OUT_OF_SCOPE)


# --- names -----------------------------------------------------------------------------------

_TEMPLATE_NAME = re.compile(r"\b(templates?|blank|forms?)\b")
_RECORD_NAME = re.compile(
    r"\b(records?|reports?|minutes|logs?|registers?|results?|checks|matrix|evidence|findings"
    r"|survey|certificates?|signed|completed|review\s+\d{4}|\d{4}[-_ ]\d{2}|q[1-4])\b"
)
_POLICY_NAME = re.compile(r"\b(polic(y|ies)|charter)\b")
_PLAN_NAME = re.compile(r"\b(plans?|schedules?|programmes?|roadmap)\b")
_PROCEDURE_NAME = re.compile(
    r"\b(procedures?|sops?|process(es)?|manual|instructions?|guidelines?|standards?|handbook|work\s+instruction)\b"
)

# --- content ---------------------------------------------------------------------------------

# Placeholders a template leaves for the user: {{owner}}, <Date>, [Name], [TODO: ...], [INSERT
# COMPANY], xxx, a line of underscores, "Enter ..." prompts. Every repetition is bounded: the look
# ahead for two capitals stops where the bracket's 51 characters would (unbounded, a line of
# 65,000 "![" took minutes).
_PLACEHOLDER = re.compile(
    r"\{\{[^{}\n]{0,80}\}\}"
    r"|(?<!\w)<(?:[A-Z][A-Za-z0-9]*)(?:[ _/.-][A-Za-z0-9]+){0,5}>"
    r"|\[(?:(?=[^\]\n]{0,49}[A-Z]{2})[A-Z0-9][A-Z0-9 _/&.,:'-]{1,50}|(?:TODO|TBD|Insert|Enter|Add|Describe|Name|Date|Your|Company"
    r"|Organi[sz]ation|Owner|Title|Version|Signature|Role|Department|Product|Project|Location)\b[^\[\]\n]{0,60})\]"
    r"|\b[xX]{3,}\b|_{4,}|\.{6,}|\bTBD\b|\bTBC\b"
    r"|(?:^|:)[ \t]*(?:Enter|Insert|Describe|Specify|Provide)\b[^.\n]{0,60}(?:here|below)\b",
    re.MULTILINE,
)
_UNTICKED = re.compile(r"\[\s\]|☐")
_TICKED = re.compile(r"\[\s*[xX✓✔]\s*\]|☒|☑")
# "Date:", "Approved by:" with nothing after them.
_UNFILLED_FIELD = re.compile(
    r"^[ \t]*(?:[\w/-]+[ \t]+){0,2}(?:name|date|signature|signed|owner|approved by|prepared by|reviewed by|author"
    r"|version|department|location|time|attendees|participants|chair|result|status|comments?|trainer|auditor)"
    r"[ \t]*:[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# What a row of a filled-in register holds: a date, a status or result, or a measured number.
_ENTRY = re.compile(
    r"^\s*-?\d+(?:[.,]\d+)?\s*(?:%|h|d|days|hours)?\s*$|"
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
    r"|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b"
    r"|\b(?:passed|pass|failed|fail|closed|open|done|completed?|yes|no|ok|approved|rejected|effective|verified)\b|[✓✔]",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_PRESCRIPTIVE = re.compile(r"\b(shall|must|is responsible for|are responsible for|responsibilities)\b", re.IGNORECASE)

# Requirement ids: CMMI practices anywhere ("PQA 2.1"), ISO clauses where they are cited rather
# than numbering the document's own sections: in a table row ("7.5.3 | Control of documented
# information"), or after other text on the line ("clause 9.2", "(8.4)").
_CMMI_PRACTICE = re.compile(
    r"\b(?:CAR|CM|CONT|DAR|EST|GOV|II|MC|MPM|OT|PAD|PCM|PI|PLAN|PQA|PR|RDM|RSK|SAM|TS|VV)[ _]?[1-5]\.\d{1,2}\b"
)
_ISO_CLAUSE = re.compile(r"\b((?:[4-9]|10)\.[1-9]\d?(?:\.\d{1,2})*)\b(?![.\d])")
# A reference names at least this many ids, with this few of its own words for each.
_REFERENCE_IDS = 15
_REFERENCE_WORDS_PER_ID = 30


def document_kind(path: str, title: str = "", texts: Iterable[str] = (), focused: bool = False) -> Kind:
    """Judged from the file name, its folder, the title and, where given, the text. ``focused``: the
    classifier finds the document mainly about one requirement (an audit programme that lists the
    clauses each audit covers is about internal audit, not a reference)."""
    words = _name_words(path, title)
    text = "\n".join(texts)
    ids = _requirement_ids(text)
    own_words = len(_WORD.findall(text))
    if not focused and len(ids) >= _REFERENCE_IDS and own_words <= _REFERENCE_WORDS_PER_ID * len(ids):
        return Kind(REFERENCE, (f"cites {len(ids)} clauses or practices with {own_words} words of its own",))

    blanks, filled = _blanks(text), _filled(text)
    blank_total, filled_total = sum(n for n, _ in blanks), sum(n for n, _ in filled)
    named_template = _TEMPLATE_NAME.search(words)
    if named_template:
        return Kind(TEMPLATE, (f"named '{named_template.group(0)}'", *_describe(blanks)))
    if blank_total >= 3 and blank_total > 4 * filled_total:
        return Kind(TEMPLATE, _describe(blanks) + (_describe(filled) or ("nothing filled in",)))
    named_record = _RECORD_NAME.search(words)
    if named_record or record_of(path, title):
        return Kind(RECORD, (f"named '{named_record.group(0) if named_record else 'training record'}'",
                             *_describe(filled)))
    for kind, pattern in ((POLICY, _POLICY_NAME), (PLAN, _PLAN_NAME), (PROCEDURE, _PROCEDURE_NAME)):
        if found := pattern.search(words):
            return Kind(kind, (f"named '{found.group(0)}'",))
    if filled_total >= 3:
        return Kind(RECORD, _describe(filled))
    prescriptive = len(_PRESCRIPTIVE.findall(text))
    if prescriptive >= 3:
        return Kind(PROCEDURE, (f"{prescriptive} statements of duty (shall, must, responsible)",))
    return Kind(OTHER)


def _requirement_ids(text: str) -> set[str]:
    ids = set(_CMMI_PRACTICE.findall(text))
    for line in text.splitlines():
        cited = line if "|" in line else line.lstrip()[1:]  # not the number of a numbered heading
        ids.update(_ISO_CLAUSE.findall(cited))
    return ids


def _blanks(text: str) -> list[tuple[int, str]]:
    placeholders = _PLACEHOLDER.findall(text)
    example = f" (e.g. {placeholders[0].strip()[:30]})" if placeholders else ""
    return [
        (len(placeholders), f"placeholders{example}"),
        (len(_UNFILLED_FIELD.findall(text)), "unfilled fields"),
        (len(_UNTICKED.findall(text)), "unticked boxes"),
        (sum(1 for block in _table_rows(text) if len(block) == 1), "tables with a header and no rows"),
    ]


def _filled(text: str) -> list[tuple[int, str]]:
    rows = [row for block in _table_rows(text) for row in block[1:]]
    return [
        (sum(1 for row in rows if _is_filled(row)), "filled table rows"),
        (len(_TICKED.findall(text)), "ticked boxes"),
    ]


def _describe(counted: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(f"{what}: {n}" for n, what in counted if n)


def _table_rows(text: str) -> list[list[list[str]]]:
    """Runs of consecutive table lines (cells separated by ``|``), each a list of rows of cells."""
    blocks: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in text.splitlines():
        if "|" in line:
            current.append([cell.strip() for cell in line.split("|")])
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [block for block in blocks if len(block[0]) >= 3 or len(block) > 1]


def _is_filled(cells: list[str]) -> bool:
    """An entry of a register: three quarters of the row's cells hold something that is not a
    placeholder, and one of them is a date, a status, a result or a number."""
    if len(cells) < 2:
        return False
    real = [cell for cell in cells if cell and not _PLACEHOLDER.search(cell) and not _UNTICKED.search(cell)]
    return len(real) >= 2 and len(real) >= 0.75 * len(cells) and any(_ENTRY.search(cell) for cell in real)


def counts_as_record(kind: str) -> bool:
    return kind == RECORD


def counts_as_document(kind: str) -> bool:
    """A maintained document: a procedure, policy or plan, not a record of one event."""
    return kind in (PROCEDURE, POLICY, PLAN, OTHER)


# --- records of an activity ------------------------------------------------------------------

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
