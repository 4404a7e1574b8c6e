import json
import random
import re
import threading
from collections.abc import Callable
from functools import partial
from importlib.resources import files

import numpy as np
import pytest

from gapscan.classifiers.analysis import _NEGATION, Analyzer, path_words, stem, terms
from gapscan.classifiers.doctype import (
    ACTIVITIES,
    POLICY,
    PROCEDURE,
    RECORD,
    REFERENCE,
    TEMPLATE,
    _CMMI_PRACTICE,
    _ISO_CLAUSE,
    _MAY_SAY_NOT_ADDRESSED,
    _NOT_ADDRESSED,
    _PRACTICE_AREAS,
    _id_spans,
    _ids,
    _TICKED,
    _UNTICKED,
    _patterns,
    _WORDS,
    _count,
    _filled_rows,
    _holding,
    _requirement_ids,
    _unfilled_fields,
    document_kind,
    record_of,
)
from gapscan.classifiers.similarity import unit_rows
from gapscan.classifiers.tfidf import ProfileSimilarity, Tagger
from gapscan.mappings import bundled_catalogs
from gapscan.scanner.common.documents import Document, Extract, Metadata, Section

ISO = "iso9001-2015"


@pytest.fixture(scope="module")
def tagger():
    return Tagger([(bundled_catalogs()[ISO], None)])


@pytest.fixture(scope="module")
def both():
    catalogs = bundled_catalogs()
    return Tagger([(catalogs[ISO], None), (catalogs["cmmi-v2-dev"], 3)])


def extract(path, *sections, title=""):
    document = Document(path, "md", 1000, 0.0, "0" * 64)
    return Extract(document, tuple(Section(loc, text) for loc, text in sections), Metadata(title=title))


def best(tagger, doc):
    found = sorted(tagger.evidence(doc), key=lambda e: -e.score)
    return found[0]


AUDIT = (
    "The quality manager prepares the annual internal audit programme. Each audit has a scope, "
    "criteria and an auditor who is independent of the area audited. The audit checklist records "
    "observations and nonconformities; the audit report goes to management and findings are tracked "
    "until closed."
)
CAPA = (
    "When a nonconformity or customer complaint is raised, the owner contains it, performs root cause "
    "analysis using five whys, records the corrective action in the CAPA log and verifies the "
    "effectiveness of the action before closure."
)
TRAINING = (
    "Each role has required competences listed in the skills matrix. Training needs are identified at "
    "the annual appraisal, training is recorded in the training record with the trainer and date, and "
    "training effectiveness is evaluated after three months."
)


@pytest.mark.parametrize("text, clause", [(AUDIT, "9.2"), (CAPA, "10.2"), (TRAINING, "7.2")])
def test_typical_texts_get_their_clause(tagger, text, clause):
    top = best(tagger, extract("doc.md", ("body", text)))
    assert top.requirement == clause
    assert top.tag
    assert top.terms, "a tag is explained by its terms"


def test_unrelated_text_gets_no_tag(tagger):
    doc = extract("recipes/bread.md", ("body", "Mix flour, water, salt and yeast. Knead the dough for ten minutes, "
                                              "let it rise for an hour, shape the loaf and bake it at 220 degrees."))
    assert not any(e.tag for e in tagger.evidence(doc))


def test_section_that_carries_a_tag_is_named(tagger):
    filler = "The company was founded in 2009 and has offices in two cities. " * 8
    doc = extract("manual.md", ("Company history", filler), ("9.2 Internal audit", AUDIT + " " + AUDIT),
                  ("Canteen", "Lunch is served from noon. " * 20))
    top = best(tagger, doc)
    assert top.requirement == "9.2" and top.locator == "9.2 Internal audit"


def test_file_name_and_title_count(tagger):
    vague = ("body", "This record lists the items discussed and agreed at the meeting with owners and dates. " * 3)
    plain = {e.requirement: e.score for e in tagger.evidence(extract("notes.md", vague))}
    named = {e.requirement: e.score for e in tagger.evidence(extract("Management-Review-Minutes.md", vague))}
    assert named.get("9.3.3", 0) > plain.get("9.3.3", 0)


def test_estimator_follows_scikit_learn_conventions():
    model = ProfileSimilarity().fit(["internal audit programme", "training record competence"], ["a", "b"])
    scores = model.decision_function(["the audit programme for this year"])
    assert scores.shape == (1, 2) and np.argmax(scores[0]) == 0
    assert list(model.classes_) == ["a", "b"]
    assert model.get_params() == {"language": "en", "max_df": 0.5, "sublinear_tf": True}


def test_terms_fold_british_spelling_and_stem():
    assert stem("organisation") == stem("organization")
    assert stem("audits") == stem("auditing") == "audit"
    assert "internal audit" in terms("Internal audits")


def test_path_words():
    assert path_words("03-records/CAPA_log-2024.xlsx") == "records CAPA log"
    assert path_words("SOP/InternalAudit.md") == "SOP Internal Audit"


@pytest.mark.parametrize(
    "path, kind",
    [
        ("forms/Internal-Audit-Report-Template.md", TEMPLATE),
        ("records/audits/2026-03 internal audit report.pdf", RECORD),
        ("procedures/Internal Audit Procedure.docx", PROCEDURE),
        ("management-review/minutes-2026.docx", RECORD),
        ("QMS-Template/training_records/questionnaire.pdf", RECORD),
        ("QMS-Template/procedures/CAPA.md", PROCEDURE),
    ],
)
def test_document_kind_from_names(path, kind):
    assert document_kind(path).kind == kind


BLANK_AUDIT_REPORT = """Internal audit report
Audit date: <Date>
Lead auditor: [Name]
Process audited: {{ process.name }}
Finding | Clause | Severity | Owner | Closed on
Summary of findings: Enter the summary here
"""
FILLED_AUDIT_REPORT = """Internal audit report
Audit date: 2026-03-12
Lead auditor: J. Smith
Finding | Clause | Severity | Owner | Closed on
Purchase orders not approved | 8.4 | Minor | K. Lee | 2026-04-02
Calibration label missing | 7.1.5 | Minor | P. Roe | 2026-04-10
Training record unsigned | 7.2 | Observation | A. Wu | 2026-03-30
"""


def test_a_form_with_placeholders_and_an_empty_table_is_a_template_whatever_its_name():
    kind = document_kind("audits/internal-audit-report-2026.md", "", [BLANK_AUDIT_REPORT])
    assert kind.kind == TEMPLATE
    assert "placeholders (e.g. <Date>): 4" in kind.signals and "tables with a header and no rows: 1" in kind.signals


PLACEHOLDERS = {
    "en": ["{{owner}}", "<Date>", "<Document Owner>", "[Name of the auditor]", "[INSERT COMPANY]", "[TODO: scope]",
           "xxx", "XXXX", "____", "......", "TBD", "TBC", "Enter the scope here", ": Describe the risk below"],
    "es": ["A COMPLETAR", "POR DEFINIR", "Indique el alcance aquí", "[Nombre del auditor]"],
    "de": ["N. N.", "OFFEN", "Tragen Sie den Namen hier", "Fügen Sie das Datum unten"],
    "fr": ["À COMPLÉTER", "A DÉFINIR", "Décrivez le risque ci-dessous", "[Nom du responsable]"],
    "pt": ["A PREENCHER", "A DEFINIR", "Descreva o risco abaixo", "[Nome do auditor]"],
}
NOT_PLACEHOLDERS = ["boxxx", "aTBD", "TBDs", "<date>", "a<Date>", "___", ".....", "[x]", "Enter the scope.",
                    "We enter it here", "OFFENE Punkte", "see [1]"]


@pytest.mark.parametrize("language", sorted(PLACEHOLDERS))
def test_placeholders_are_found_in_each_language_and_nothing_else(language):
    found = _patterns(language)
    for placeholder in PLACEHOLDERS[language] + PLACEHOLDERS["en"]:
        for line in (placeholder, f"Scope: {placeholder}"):
            assert placeholder.lstrip(": ") in "".join(_placeholders(found, line)), (language, line)
    for text in NOT_PLACEHOLDERS:
        assert not _placeholders(found, text), (language, text)


def _placeholders(patterns, text: str) -> list[str]:
    return [text[start:end] for start, end in patterns.placeholder_spans(text)]


def _plain_placeholder(language: str) -> re.Pattern:
    """The placeholder pattern as it reads most simply: word boundaries and line starts checked before
    each alternative (the code's pattern checks them after its first character, to be fast)."""
    words = [_WORDS["en"]] + ([_WORDS[language]] if language != "en" else [])
    either = lambda key: "|".join(w[key] for w in words)  # noqa: E731
    prompt = "|".join(rf"(?:{w['prompt']})\b[^.\n]{{0,60}}(?:{w['prompt_end']})" for w in words)
    return re.compile(
        r"\{\{[^{}\n]{0,80}\}\}"
        r"|(?<!\w)<(?:[A-ZÀ-Þ][^\W_]*)(?:[ _/.-][^\W_]+){0,5}>"
        r"|\[(?:(?=[^\]\n]{0,49}[A-ZÀ-Þ]{2})[A-ZÀ-Þ0-9][A-ZÀ-Þ0-9 _/&.,:'-]{1,50}"
        rf"|(?:{either('placeholder')})\b[^\[\]\n]{{0,60}})\]"
        rf"|\b[xX]{{3,}}\b|_{{4,}}|\.{{6,}}|\b(?:{either('blank')})(?!\w)"
        rf"|(?:^|:)[ \t]*(?:{prompt})\b",
        re.MULTILINE,
    )


def _same_matches(fast: re.Pattern | Callable[[str], list], plain: re.Pattern, pieces: list[str], seed: str) -> None:
    """Both patterns find the same matches, with the same groups, in 20,000 strings made of ``pieces``
    (``fast`` may be what gives a text's spans instead)."""
    rng = random.Random(seed)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        if isinstance(fast, re.Pattern):
            assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
                (m.span(), m.groups()) for m in plain.finditer(text)], repr(text)
        else:
            assert fast(text) == [m.span() for m in plain.finditer(text)], repr(text)


@pytest.mark.parametrize("language", sorted(PLACEHOLDERS))
def test_the_fast_placeholder_pattern_matches_where_the_plain_one_does(language):
    pieces = [*"{}<>[]xX_.:| \t\n\u00a0aZ1é-/", "  ", ": ", "ab", "xxx", "____", "......", "{{", "}}",
              "<Date>", "[Name]", "[TODO: x]", "[INSERT COMPANY]", "Name", "Date", "here", "below"]
    pieces += [word for w in PLACEHOLDERS.values() for text in w for word in text.split()]
    found = _patterns(language)
    _same_matches(lambda text: list(found.placeholder_spans(text)), _plain_placeholder(language), pieces, language)


@pytest.mark.parametrize("language", sorted(PLACEHOLDERS))
def test_a_placeholder_never_spans_lines_so_a_tables_cells_are_judged_in_one_pass(language):
    found = _patterns(language)
    pieces = [*"{}<>[]xX_.:| \t\n\u00a0aZ1é-/", "  ", ": ", "xxx", "____", "......", "{{", "}}", "N.", "N. ", "N.\n"]
    pieces += [word for w in PLACEHOLDERS.values() for text in w for word in text.split()]
    rng = random.Random(language)
    for _ in range(5_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert all("\n" not in placeholder for placeholder in _placeholders(found, text)), repr(text)
        cells = [cell.strip() for line in text.splitlines() for cell in line.split("|")]
        holding = {cell for cell in cells if _placeholders(found, cell)}
        assert _holding(found.placeholder_spans("\n".join(cells)), cells) == holding, repr(text)


def test_the_fast_clause_and_practice_patterns_match_where_the_plain_ones_do():
    pieces = [*"0123456789. _|\nabCMP-:", *_PRACTICE_AREAS, "10", "4.1", "7.5.3", "10.2", "9.", "CMMI", "xPQA"]
    areas = "|".join(_PRACTICE_AREAS)
    _same_matches(partial(_id_spans, _CMMI_PRACTICE), re.compile(rf"\b(?:{areas})[ _]?[1-5]\.\d{{1,2}}\b"), pieces,
                  "cmmi")
    _same_matches(partial(_id_spans, _ISO_CLAUSE), re.compile(r"\b(?:[4-9]|10)\.[1-9]\d?(?:\.\d{1,2})*\b(?![.\d])"),
                  pieces, "iso")


@pytest.mark.parametrize(("language", "negation", "following"), [
    ("en", "non", r"[^\W\d_]"), ("fr", "non", r"[^\W\d_]"), ("es", "no", "conform"), ("pt", "não|nao|no", "conform"),
    ("de", "nicht", "konform")])
def test_the_fast_negation_pattern_matches_where_the_plain_one_does(language, negation, following):
    plain = re.compile(rf"\b({negation})(?:-[ \t]*|[ \t]+)(?={following})", re.IGNORECASE)
    pieces = [*"nN oO-\t\nãÃaAxé", "non", "NON", "Non", "no", "NO", "não", "NÃO", "nao", "nicht", "NICHT", "conform",
              "CONFORM", "konform", "Konform", "ing", "ab"]
    _same_matches(_NEGATION[language].pattern, plain, pieces, language)
    rng = random.Random(language)
    for _ in range(20_000):  # the needles looked for first never pass over a negation
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert _NEGATION[language].joined(text) == plain.sub(r"\1", text), repr(text)


def test_the_fast_gap_list_pattern_matches_where_the_plain_one_does():
    plain = re.compile(r"\b(?:(?:is|are)(?:n't| not)|not) (?:yet |currently )?"
                       r"(?:addressed|included|covered|implemented)\b", re.IGNORECASE)
    pieces = [*" -'\nxIiİıSsſaAnN1é", "is", "IS", "İs", "ıs", "are", "ARE", "not", "NOT", "n't", " not", "yet ",
              "currently ", "addressed", "ADDRESSED", "included", "covered", "implemented", "ing", "this",
              "İs not addressed", "ıs not covered"]
    _same_matches(_NOT_ADDRESSED, plain, pieces, "gaps")


def test_a_text_is_searched_for_gap_statements_wherever_it_may_hold_one():
    """The look-ahead on the lower-cased text finds something in every text the pattern matches:
    statements in any case, with the characters that match an i or an s case-blind, amid noise."""
    exotic = {"i": "iIİı", "s": "sSſ"}
    rng = random.Random("look-ahead")

    def spelled(word: str) -> str:
        return "".join(rng.choice(exotic.get(c, c + c.upper())) for c in word)

    matched = 0
    for _ in range(5_000):
        statement = " ".join([rng.choice(["is not", "isn't", "are not", "aren't", "not", "no"]),
                              *rng.choice([[], ["yet"], ["currently"]]),
                              rng.choice(["addressed", "included", "covered", "implemented", "implied"])])
        text = spelled(rng.choice(["", "Risk ", "x", "\n", "this "]) + statement + rng.choice(["", ".", "s", " yet"]))
        if _NOT_ADDRESSED.search(text):
            matched += 1
            assert _MAY_SAY_NOT_ADDRESSED.search(text.lower()), repr(text)
    assert matched > 2_000


@pytest.mark.parametrize("language", sorted(_WORDS))
def test_the_fast_duty_pattern_matches_where_the_plain_one_does(language):
    duties = "|".join(w["duty"] for w in {"en": _WORDS["en"], language: _WORDS[language]}.values())
    plain = re.compile(rf"\b(?:{duties})\b", re.IGNORECASE)
    words = [word for duty in duties.split("|") for word in re.sub(r"\[(.)[^]]*\]", r"\1", duty).split()]
    # Each word also in capitals, and with its first letter as another character that matches it
    # case-blind (dotted and dotless I, long s).
    exotic = {"i": "İı", "s": "ſ"}
    spelled = [other + word[1:] for word in words for other in exotic.get(word[0], "")]
    pieces = [*" -\nxIiİıSsſKkéÉáÁ1_", *words, *(word.upper() for word in words), *spelled, "responsible", "for"]
    _same_matches(_patterns(language).prescriptive, plain, pieces, language)


@pytest.mark.parametrize("language", sorted(_WORDS))
def test_a_cell_holds_an_entry_where_the_plain_pattern_finds_one(language):
    words = [_WORDS["en"]] + ([_WORDS[language]] if language != "en" else [])
    either = lambda key: "|".join(w[key] for w in words)  # noqa: E731
    plain = re.compile(
        rf"^\s*-?\d+(?:[.,]\d+)?\s*(?:%|{either('unit')})?\s*$|\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b"
        rf"|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b|\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{either('month')})[^\W\d_]*\.?\s+"
        rf"(?:de\s+)?\d{{4}}\b|\b(?:{either('entry')})\b|[✓✔]", re.IGNORECASE)
    spelled = [re.sub(r"\[(.)[^]]*\]", r"\1", word) for key in ("entry", "month", "unit")
               for word in either(key).split("|")]
    exotic = {"s": "ſ", "i": "İ"}  # first letters a case-blind match also takes
    pieces = [*" -/._,%\t1234567890aZéİſ✓", "de ", "2024", "12", "05", *spelled, *(word.upper() for word in spelled),
              *(exotic[word[0]] + word[1:] for word in spelled if word[0] in exotic)]
    found = _patterns(language)
    rng = random.Random(language)
    for _ in range(20_000):
        cell = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert found.holds_entry(cell) == (plain.search(cell) is not None), repr(cell)


@pytest.mark.parametrize("language", ["en", "es"])
def test_filled_rows_are_those_a_cell_by_cell_reading_finds(language):
    """Rows are judged from their distinct cells, with placeholders found in one pass and boxes
    looked for only where the cells hold one: the count is that of judging each cell of each row."""
    found = _patterns(language)

    def filled(row: list[str]) -> bool:
        kept = [cell for cell in row if cell and not _placeholders(found, cell) and not _UNTICKED.search(cell)]
        return len(kept) >= 2 and len(kept) >= 0.75 * len(row) and any(map(found.holds_entry, kept))

    cells = ["", "Calibration", "Pump 4", "2024-03-01", "done", "12", "TBD", "[ ]", "[x]", "☐", "☒", "[", "]",
             "<Name>", "Owner", "open", "Fecha", "cerrado", "[ ] done", "2 kg"]
    rng = random.Random(language)
    for _ in range(3_000):
        rows = [[rng.choice(cells) for _ in range(rng.randint(2, 5))] for _ in range(rng.randint(1, 6))]
        assert _filled_rows(rows, found) == sum(map(filled, rows)), rows


@pytest.mark.parametrize("language", sorted(_WORDS))
def test_unfilled_fields_and_boxes_are_those_the_patterns_find_in_the_whole_text(language):
    """Fields are looked for only on lines that end with a colon, boxes only in a text with their
    characters: the counts are those of the patterns over the whole text."""
    found = _patterns(language)
    fields = [word for w in ([_WORDS["en"]] + [_WORDS[language]]) for word in w["field"].split("|") if "[" not in word]
    pieces = [*" :\t\n\r-/[]xX☐☒☑✓", "Date", *fields, "Signed by", ": ", ":\n", "[ ]", "[x]"]
    rng = random.Random(language)
    for _ in range(5_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        assert _unfilled_fields(text, found) == len(found.unfilled_field.findall(text)), repr(text)
        for box in (_TICKED, _UNTICKED):
            assert _count(box, text) == len(box.findall(text)), repr(text)


def test_cited_clauses_are_those_a_line_by_line_reading_finds():
    def line_by_line(text):
        ids = set(_ids(_CMMI_PRACTICE, text))
        for line in text.splitlines():
            if "." in line:
                ids.update(_ids(_ISO_CLAUSE, line if "|" in line else line.lstrip()[1:]))
        return ids

    pieces = [*"0123456789.| \n\r\u2028xA(", "7.5.3", "10.2", "4.1", "clause ", " | ", "PQA 2.1", "9.", "\n7"]
    rng = random.Random("clauses")
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert _requirement_ids(text) == line_by_line(text), repr(text)


def test_a_filled_register_is_a_record_and_says_why():
    kind = document_kind("audits/march.md", "", [FILLED_AUDIT_REPORT])
    assert kind.kind == RECORD and kind.signals == ("filled table rows: 3",)


def test_a_policy_with_tables_is_a_policy():
    text = "Role | Duty | Approves\nCEO | sets the quality policy | yes\nQM | runs audits | yes\nHR | training | no\n"
    assert document_kind("policies/quality-policy.md", "", [text]).kind == POLICY


def test_a_clause_catalogue_is_a_reference_and_never_evidence(tagger):
    rows = "\n".join(f"{clause} | {title} | see manual" for clause, title in [
        ("4.1", "Context"), ("4.2", "Interested parties"), ("4.3", "Scope"), ("4.4", "Processes"),
        ("5.1", "Leadership"), ("5.2", "Policy"), ("5.3", "Roles"), ("6.1", "Risks"), ("6.2", "Objectives"),
        ("7.1", "Resources"), ("7.2", "Competence"), ("7.5", "Documented information"), ("8.4", "Suppliers"),
        ("9.2", "Internal audit"), ("9.3", "Management review"), ("10.2", "Corrective action")])
    catalogue = extract("iso/clause-map.md", ("Clause map", "ISO 9001 clause | Title | Where\n" + rows))
    assert document_kind(catalogue.document.path, "", [catalogue.text]).kind == REFERENCE
    found = tagger.evidence(catalogue)
    assert found and not any(e.tag for e in found)
    assert all(e.decision.startswith("a reference document is never evidence") for e in found)


def test_a_page_that_points_to_another_document_is_a_reference_and_never_evidence(tagger):
    """A short page that says where the content is kept is not evidence: its title alone would make it so."""
    text = ("Our system and software architecture diagrams are included within the Software Design "
            "Specification. This page lets reviewers find them.")
    pointer = extract("design/architecture-diagram.md", ("Note", text),
                      title="System and software architecture diagram")
    kind = document_kind(pointer.document.path, pointer.metadata.title, [pointer.text])
    assert kind.kind == REFERENCE and kind.signals[0].startswith("points to another document ('are included within the")
    found = tagger.evidence(pointer)
    assert found and not any(e.tag for e in found)
    described = ("The architecture is described in the sections below: a presentation tier, an application server "
                 "and a database, each with its components, interfaces and the design decisions behind them. ") * 4
    design = extract("design/architecture.md", ("Architecture", described), title="Software architecture")
    long_kind = document_kind(design.document.path, design.metadata.title, [design.text])
    assert long_kind.kind != REFERENCE, "too long to be a pointer"


def test_notes_to_the_author_are_not_text_of_its_own(tagger):
    notes = ("TODO: Write the internal audit procedure based off of the audit programme, the audit checklist,\n"
             "TODO the independence of each auditor, the audit criteria, the audit scope and the audit report\n"
             "- FIXME the internal audit schedule and the follow-up of audit findings with corrective action")
    draft = extract("procedures/internal-audit.md", ("Internal audit", notes), title="Internal audit procedure")
    found = tagger.evidence(draft)
    assert found and not any(e.tag for e in found)
    assert all("too little text of its own (0 words)" in e.decision for e in found)
    text = notes.replace("TODO: ", "").replace("TODO ", "").replace("- FIXME ", "")
    written = extract("procedures/internal-audit.md", ("Internal audit", text), title="Internal audit procedure")
    assert not any("too little text of its own" in e.decision for e in tagger.evidence(written))


def test_an_audit_programme_that_lists_clauses_is_about_internal_audit_not_a_reference(tagger):
    clauses = ["4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "6.1", "6.2", "7.1", "7.2", "7.5", "8.4", "8.5",
               "9.1", "9.3", "10.2"]
    rows = "\n".join(f"{month} | internal audit of clause {clause} | lead auditor J. Smith | audit report due"
                     for month, clause in zip(["Jan", "Feb", "Mar", "Apr", "May", "Jun"] * 3, clauses, strict=False))
    programme = extract("audits/audit-programme-2026.md",
                        ("Internal audit programme", "Month | Audit scope | Auditor | Output\n" + rows))
    assert document_kind(programme.document.path, "", [programme.text]).kind == REFERENCE, "many clause ids"
    found = tagger.evidence(programme)
    assert {e.requirement for e in found if e.tag} == {"9.2"}, "it is mainly about internal audit"


def test_a_placeholder_is_never_evidence_whatever_its_name(tagger):
    doc = extract("records/internal-audit-report-2024.md", ("body", "TBD"), title="Internal audit report")
    found = tagger.evidence(doc)
    assert found and not any(e.tag for e in found)


@pytest.mark.parametrize("path", ["procedures/internal-audit-2024-03.docx", "reviews/Management review 2023.docx",
                                  "audits/audit_Q3.docx"])
def test_dates_in_file_names_mark_records(path):
    assert document_kind(path).kind == RECORD


def test_terms_join_non_to_the_word_it_negates():
    assert set(terms("non-conforming")) == set(terms("non conforming")) == set(terms("nonconforming"))


def test_document_control_furniture_is_not_a_term():
    assert terms("SOP template ID 12, approved; form number 3") == []


@pytest.mark.parametrize(
    "path, title, activity",
    [
        ("training_records/training-capa/questionnaire.txt", "", "training"),
        ("records/Training Log 2026.xlsx", "", "training"),
        ("hr/induction.docx", "Training attendance sheet", "training"),
        ("training-onboarding/OnBoardingChecklist_Example.md", "", "training"),
        ("records/SOP-012 training record.pdf", "", "training"),  # a record of training on an SOP
        ("hr/Work Instruction Training Log.xlsx", "", "training"),
        ("forms/Training-Log-Template.md", "", "training"),
        ("hr/Training record - ISO 9001 awareness.docx", "", "training"),
        ("SOPs/training.md", "Training SOP", None),
        ("hr/Training Records Procedure.docx", "", None),  # the head noun is last
        ("hr/Training Plan 2026.docx", "", None),
        ("records/Training Presentation CAPA.pptx", "", None),
        ("records/training-matrix.xlsx", "", None),
        ("audits/Internal Audit Checklist - Training and Competence.docx", "", None),
        ("suppliers/Supplier questionnaire - training provider.docx", "", None),
        ("ml/training-run-log.md", "", None),
        ("design/Model training records.docx", "", None),
        ("records/audit-log.xlsx", "", None),
    ],
)
def test_record_of_names_the_activity_a_record_records(path, title, activity):
    assert record_of(path, title) == activity


def test_records_of_in_the_catalog_schema_lists_the_activities_gapscan_recognises():
    schema = json.loads(files("gapscan.mappings").joinpath("catalog_schema.json").read_text(encoding="utf-8"))
    requirement = schema["properties"]["requirements"]["items"]["properties"]
    assert tuple(requirement["records_of"]["items"]["enum"]) == ACTIVITIES


def test_a_training_record_is_competence_evidence_whatever_its_subject(both):
    quiz = extract(
        "training_records/training-capa/questionnaire.md",
        ("Questions", CAPA + " Question 1: who verifies the effectiveness of a corrective action? "
                      "Question 2: which root cause analysis methods does the CAPA procedure name?"),
    )
    found = both.evidence(quiz)
    tagged = {(e.framework, e.requirement) for e in found if e.tag}
    assert tagged == {(ISO, "7.2"), ("cmmi-v2-dev", "OT 2.2")}
    competence = next(e for e in found if e.requirement == "7.2")
    assert competence.terms[0] == "training record" and competence.locator == ""
    capa = next(e for e in found if e.requirement == "10.2")
    assert not capa.tag and capa.decision == "a record of training: its subject is a near miss"


def test_a_training_log_under_a_training_record_heading_is_evidence(both):
    """"Training record" is sign-off furniture in a procedure, and the content of a training log."""
    log = extract(
        "hr/training-log-2026.md",
        ("Acme Ltd", "Acme Ltd quality records."),
        ("Training Record", "Trainee | Course | Trainer | Date\nA. Jones | CAPA procedure | B. Smith | 2026-03-02\n"
                            "C. Wu | Internal audit | B. Smith | 2026-03-09\n"
                            "D. Roe | Release checklist | E. Ray | 2026-04-11"),
    )
    tagged = {e.requirement for e in both.evidence(log) if e.tag}
    assert tagged == {"7.2", "OT 2.2"}


def test_the_same_text_outside_a_training_record_is_evidence_for_its_subject(both):
    procedure = extract("procedures/corrective-action.md", ("Procedure", CAPA))
    tagged = {e.requirement for e in both.evidence(procedure) if e.tag}
    assert "10.2" in tagged and "7.2" not in tagged


def test_a_procedure_is_evidence_for_every_requirement_of_its_clause(tagger):
    text = ("Document control procedure. Documents are identified with a number, title and revision, reviewed and "
            "approved before issue, distributed to the people who use them, kept legible, protected from "
            "unintended change and archived when superseded; obsolete documents are withdrawn. External documents "
            "are identified and controlled; records are retained for the retention period and disposed of. "
            "Creating and updating documented information: format, review and approval for suitability.")
    tagged = {e.requirement for e in tagger.evidence(extract("procedures/document-control.md", ("Procedure", text)))
              if e.tag}
    assert {"7.5.2", "7.5.3"} <= tagged <= {"7.5.1", "7.5.2", "7.5.3"}


def test_threads_sharing_an_analyzer_get_the_stems_one_thread_gets():
    """A Dask worker scores documents on several threads with one tagger: the snowball stemmer
    keeps the word it works on in itself, and unguarded it gave wrong stems and IndexErrors."""
    words = [f"organisational{n}ing" for n in range(30_000)]
    alone = Analyzer("en", frozenset())
    expected = [alone.stem(word) for word in words]
    shared = Analyzer("en", frozenset())
    got: dict[int, str] = {}
    errors: list[Exception] = []

    def stem_every_other(start: int) -> None:
        try:
            for n in range(start, len(words), 2):
                got[n] = shared.stem(words[n])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=stem_every_other, args=(start,)) for start in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [got[n] for n in range(len(words))] == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_are_scaled_to_unit_length_bit_for_bit_as_scikit_learn_scales_them(dtype):
    from scipy import sparse
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(7)
    rows = sparse.random(40, 300, density=0.05, format="csr", dtype=dtype, random_state=rng) * 1000
    matrix = sparse.vstack([rows, sparse.csr_matrix((1, 300), dtype=dtype)], format="csr")  # an empty row
    before = matrix.copy()
    scaled = unit_rows(matrix)
    assert scaled.dtype == dtype
    assert np.array_equal(scaled.toarray(), normalize(matrix).toarray())
    assert np.array_equal(matrix.toarray(), before.toarray())  # copied
    unit_rows(matrix, copy=False)
    assert np.array_equal(matrix.toarray(), scaled.toarray())


def test_products_with_kept_layouts_are_bit_for_bit_those_of_the_plain_expressions():
    """The transposed profiles and the supervised weights are kept in the layout the products read,
    instead of being converted at each document: the same numbers."""
    from scipy import sparse

    from gapscan.classifiers.supervised import SupervisedModel

    texts = ["internal audit programme and its audit findings", "training record of competence",
             "a calibration record for each gauge", "management review minutes"]
    model = ProfileSimilarity().fit(texts, ["a", "b", "c", "d"])
    rows = model.transform(["the audit programme and the training of auditors", "gauge calibration"])
    assert np.array_equal(model.similarity(rows), (unit_rows(rows) @ model.profiles_.T).toarray())

    rng = np.random.default_rng(3)
    coef = rng.normal(size=(5, 40)).astype(np.float32)
    supervised = SupervisedModel(tuple(f"t{i}" for i in range(40)), np.ones(40),
                                 tuple(("f", str(i)) for i in range(5)), coef, rng.normal(size=5).astype(np.float32))
    features = unit_rows(sparse.csr_matrix(rng.random((3, 40)).astype(np.float32) * (rng.random((3, 40)) > 0.7)))
    logits = features @ np.ascontiguousarray(coef).T + supervised.intercept
    assert np.array_equal(supervised.probabilities(features), 1.0 / (1.0 + np.exp(-logits)))
