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
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, chain

from gapscan.classifiers.analysis import count_words, fold_accents
from gapscan.scanner.common.kinds import (  # noqa: F401  (re-exported: the kinds this module tells apart)
    KINDS,
    OTHER,
    OUT_OF_SCOPE,
    PLAN,
    POLICY,
    PROCEDURE,
    RECORD,
    REFERENCE,
    TEMPLATE,
    counts_as_document,
    counts_as_record,
)



@dataclass(frozen=True)
class Kind:
    """A document's kind and the signals it was judged by, in words a user can check."""

    kind: str
    signals: tuple[str, ...] = ()

    @property
    def is_evidence(self) -> bool:
        return self.kind not in (REFERENCE, OUT_OF_SCOPE)


# --- names and content, per language -------------------------------------------------------

# Each language's words for what a name says a document is, and for what a form leaves blank or a
# register holds. A document is read with English and its own language's words (file names and
# template markers are often English in a Spanish quality system). German words are heads of
# compounds ("Auditbericht"), so they match at the end of a word.
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "template": r"templates?|blank|forms?",
        "record": r"records?|reports?|minutes|logs?|registers?|results?|checks|matrix|evidence|findings|survey"
                  r"|certificates?|signed|completed|review\s+\d{4}",
        "policy": r"polic(y|ies)|charter",
        "plan": r"plans?|schedules?|programmes?|roadmap",
        "procedure": r"procedures?|sops?|process(es)?|manual|instructions?|guidelines?|standards?|handbook"
                     r"|work\s+instruction",
        "placeholder": r"TODO|TBD|Insert|Enter|Add|Describe|Name|Date|Your|Company|Organi[sz]ation|Owner|Title|Version"
                       r"|Signature|Role|Department|Product|Project|Location",
        "blank": r"TBD|TBC",
        "prompt": r"Enter|Insert|Describe|Specify|Provide",
        "prompt_end": r"here|below",
        "field": r"name|date|signature|signed|owner|approved by|prepared by|reviewed by|author|version|department"
                 r"|location|time|attendees|participants|chair|result|status|comments?|trainer|auditor",
        "month": r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec",
        "unit": r"h|d|days|hours",
        "entry": r"passed|pass|failed|fail|closed|open|done|completed?|yes|no|ok|approved|rejected|effective|verified",
        "duty": r"shall|must|is responsible for|are responsible for|responsibilities",
    },
    "es": {
        "template": r"plantillas?|formularios?|formatos?|en\s+blanco",
        "record": r"registros?|informes?|actas?|minutas?|bit[aá]coras?|resultados?|matriz|evidencias?|hallazgos"
                  r"|encuestas?|certificados?|constancias?|firmad[oa]s?|completad[oa]s?",
        "policy": r"pol[ií]ticas?",
        "plan": r"plan|planes|planificaci[oó]n|cronogramas?|programas?",
        "procedure": r"procedimientos?|procesos?|manual(es)?|instructivos?|instrucci[oó]n|instrucciones|gu[ií]as?"
                     r"|normas?|est[aá]ndar(es)?|lineamientos?",
        "placeholder": r"Nombre|Fecha|Firma|Empresa|Organizaci[oó]n|Responsable|Cargo|Descripci[oó]n|Insertar"
                       r"|Introducir|Describir|Indicar|Completar|Proyecto|Producto|Versi[oó]n",
        "blank": r"A COMPLETAR|POR DEFINIR|POR COMPLETAR",
        "prompt": r"Indique|Describa|Introduzca|Inserte|Complete",
        "prompt_end": r"aqu[ií]|a continuaci[oó]n",
        "field": r"nombre|fecha|firma|responsable|aprobado por|elaborado por|revisado por|autor|versi[oó]n"
                 r"|departamento|[aá]rea|lugar|hora|asistentes|participantes|resultado|estado|comentarios"
                 r"|observaciones|auditor|instructor|capacitador",
        "month": r"ene|feb|mar|abr|may|jun|jul|ago|sep|oct|nov|dic",
        "unit": r"h|d|d[ií]as|horas",
        "entry": r"aprobad[oa]|rechazad[oa]|cerrad[oa]|abiert[oa]|completad[oa]|realizad[oa]|cumple|conforme|s[ií]"
                 r"|verificad[oa]|vigente|eficaz",
        "duty": r"debe|deben|deber[aá]|deber[aá]n|es responsable de|son responsables de|responsabilidades",
    },
    "de": {
        "template": r"\w*vorlagen?|\w*formulare?|\w*formbl[aä]tt(er)?|leer",
        "record": r"\w*aufzeichnung(en)?|\w*nachweis(e)?|\w*bericht(e)?|\w*protokoll(e)?|\w*register"
                  r"|\w*matrix|\w*befunde?|\w*umfrage|\w*befragung|\w*zertifikate?|\w*bescheinigung(en)?|unterschrieben|ausgef[uü]llt",
        "policy": r"\w*politik|\w*leitbild|\w*leitlinien?",
        "plan": r"\w*plan|\w*pl[aä]ne|\w*programme?|\w*terminplan",
        "procedure": r"\w*verfahren|\w*anweisung(en)?|\w*prozess(e)?|\w*handbuch|\w*richtlinien?|\w*leitfaden"
                     r"|\w*standards?|\w*vorgaben?",
        "placeholder": r"Name|Datum|Unterschrift|Firma|Unternehmen|Organisation|Verantwortlich(?:e|er)?|Funktion"
                       r"|Beschreibung|Einf[uü]gen|Eintragen|Projekt|Produkt|Version",
        "blank": r"OFFEN|TBD|N\.[^\S\n]?N\.",
        "prompt": r"Tragen Sie|F[uü]gen Sie|Beschreiben Sie",
        "prompt_end": r"hier|unten",
        "field": r"name|datum|unterschrift|verantwortlich|freigegeben von|erstellt von|gepr[uü]ft von|autor|version"
                 r"|abteilung|ort|uhrzeit|teilnehmer|ergebnis|status|bemerkungen?|kommentare?|auditor|trainer",
        "month": r"jan|feb|m[aä]r|apr|mai|jun|jul|aug|sep|okt|nov|dez",
        "unit": r"h|std|tage|stunden",
        "entry": r"bestanden|erledigt|offen|geschlossen|abgeschlossen|ja|nein|freigegeben|abgelehnt|wirksam"
                 r"|verifiziert|erf[uü]llt|umgesetzt",
        "duty": r"muss|m[uü]ssen|ist verantwortlich|sind verantwortlich|verantwortlichkeiten|zust[aä]ndig",
    },
    "fr": {
        "template": r"gabarits?|formulaires?|vierges?",
        "record": r"enregistrements?|rapports?|comptes?\s+rendus?|proc[eè]s\s+verba(l|ux)|journal|journaux|registres?"
                  r"|r[eé]sultats?|matrice|preuves?|constats?|enqu[eê]tes?|certificats?|attestations?|sign[eé]e?s?"
                  r"|compl[eé]t[eé]e?s?",
        "policy": r"politiques?|chartes?",
        "plan": r"plans?|planning|programmes?|calendriers?",
        "procedure": r"proc[eé]dures?|processus|manuels?|instructions?|guides?|normes?|standards?"
                     r"|modes?\s+op[eé]ratoires?",
        "placeholder": r"Nom|Date|Signature|Soci[eé]t[eé]|Entreprise|Organisation|Responsable|Fonction|Description"
                       r"|Ins[eé]rer|Saisir|D[eé]crire|Indiquer|Projet|Produit|Version",
        "blank": r"A COMPL[EÉ]TER|À COMPL[EÉ]TER|A D[EÉ]FINIR|À D[EÉ]FINIR",
        "prompt": r"Indiquez|D[eé]crivez|Saisissez|Ins[eé]rez|Compl[eé]tez",
        "prompt_end": r"ici|ci-dessous",
        "field": r"nom|date|signature|responsable|approuv[eé] par|r[eé]dig[eé] par|v[eé]rifi[eé] par|auteur|version"
                 r"|service|lieu|heure|participants|pr[eé]sents|r[eé]sultat|statut|commentaires?|observations"
                 r"|auditeur|formateur",
        "month": r"janv|f[eé]vr|mars|avr|mai|juin|juil|ao[uû]t|sept|oct|nov|d[eé]c",
        "unit": r"h|j|jours|heures",
        "entry": r"conforme|r[eé]alis[eé]e?|clos|cl[oô]tur[eé]e?|ouvert|ferm[eé]e?|termin[eé]e?|oui|non|valid[eé]e?"
                 r"|rejet[eé]e?|v[eé]rifi[eé]e?|efficace",
        "duty": r"doit|doivent|devra|devront|est responsable|sont responsables|responsabilit[eé]s",
    },
    "pt": {
        "template": r"modelos?|formul[aá]rios?|em\s+branco",
        "record": r"registros?|registos?|relat[oó]rios?|atas?|actas?|resultados?|matriz|evid[eê]ncias?"
                  r"|constata[cç][oõ]es|pesquisas?|certificados?|assinad[oa]s?|preenchid[oa]s?",
        "policy": r"pol[ií]ticas?",
        "plan": r"planos?|planejamento|planeamento|cronogramas?|programas?",
        "procedure": r"procedimentos?|processos?|manua(l|is)|instru[cç][aã]o|instru[cç][oõ]es|guias?|normas?"
                     r"|padr[aã]o|padr[oõ]es",
        "placeholder": r"Nome|Data|Assinatura|Empresa|Organiza[cç][aã]o|Respons[aá]vel|Cargo|Descri[cç][aã]o|Inserir"
                       r"|Preencher|Descrever|Indicar|Projeto|Produto|Vers[aã]o",
        "blank": r"A PREENCHER|A DEFINIR",
        "prompt": r"Indique|Descreva|Insira|Preencha",
        "prompt_end": r"aqui|abaixo",
        "field": r"nome|data|assinatura|respons[aá]vel|aprovado por|elaborado por|revisado por|autor|vers[aã]o"
                 r"|departamento|[aá]rea|local|hora|participantes|resultado|estado|status|coment[aá]rios"
                 r"|observa[cç][oõ]es|auditor|instrutor",
        "month": r"jan|fev|mar|abr|mai|jun|jul|ago|set|out|nov|dez",
        "unit": r"h|d|dias|horas",
        "entry": r"aprovad[oa]|reprovad[oa]|fechad[oa]|abert[oa]|conclu[ií]d[oa]|realizad[oa]|sim|conforme"
                 r"|verificad[oa]|eficaz|cumprido",
        "duty": r"deve|devem|dever[aá]|dever[aã]o|[eé] respons[aá]vel|s[aã]o respons[aá]veis|responsabilidades",
    },
}


@dataclass(frozen=True)
class _Patterns:
    template_name: re.Pattern
    record_name: re.Pattern
    policy_name: re.Pattern
    plan_name: re.Pattern
    procedure_name: re.Pattern
    placeholder: re.Pattern  # read after a line break: ``placeholder_spans``
    unfilled_field: re.Pattern
    entry_number: re.Pattern
    entry: tuple[re.Pattern, ...]
    prescriptive: re.Pattern

    def placeholder_spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Where the placeholders in ``text`` start and end. The pattern reads the text after a line
        break: its prompts at a line's start begin with that break, which the regex engine skips
        ahead to (checked at each space instead, the prompts took two thirds of a spreadsheet's time
        here); no other alternative begins with one."""
        padded = "\n" + text
        for match in self.placeholder.finditer(padded):
            start, end = match.span()
            yield (start if padded[start] == "\n" else start - 1), end - 1

    def holds_entry(self, cell: str) -> bool:
        """Whether a table cell holds what a filled-in register's row does: a measured number, a
        date, a status or a result."""
        return self.entry_number.match(cell) is not None or any(pattern.search(cell) for pattern in self.entry)


@cache
def _patterns(language: str) -> _Patterns:
    """English's words with ``language``'s (a language without its own words reads as English)."""
    words = [_WORDS["en"]] + ([_WORDS[language]] if language in _WORDS and language != "en" else [])

    def either(key: str) -> str:
        return "|".join(w[key] for w in words)

    return _Patterns(
        template_name=re.compile(rf"\b({either('template')})\b"),
        # A dated name marks a record: "review 2024", "2024-03", "Q3".
        record_name=re.compile(rf"\b({either('record')}|\d{{4}}[-_ ]\d{{2}}|q[1-4])\b"),
        policy_name=re.compile(rf"\b({either('policy')})\b"),
        plan_name=re.compile(rf"\b({either('plan')})\b"),
        procedure_name=re.compile(rf"\b({either('procedure')})\b"),
        placeholder=_placeholder(words),
        # "Date:", "Approved by:" with nothing after them.
        unfilled_field=re.compile(
            rf"^[ \t]*(?:[\w/-]+[ \t]+){{0,2}}(?:{either('field')})[ \t]*:[ \t]*$", re.MULTILINE | re.IGNORECASE
        ),
        # What a row of a filled-in register holds (see ``holds_entry``): a number with its unit,
        # alone in its cell; a date, a status or result. Each of the latter starts with what the
        # regex engine can skip ahead to: a digit, a literal letter, a tick.
        entry_number=re.compile(rf"\s*-?\d+(?:[.,]\d+)?\s*(?i:%|{either('unit')})?\s*$"),
        entry=(
            re.compile(rf"\d{_AFTER_NON_WORD}(?:\d{{3}}-\d{{1,2}}-\d{{1,2}}\b|\d?[/.]\d{{1,2}}[/.]\d{{2,4}}\b"
                       rf"|\d?\.?\s+(?i:de\s+)?(?i:{either('month')})[^\W\d_]*\.?\s+(?i:de\s+)?\d{{4}}\b)"),
            re.compile(_case_blind_first_then([rf"{word}\b" for word in either("entry").split("|")], _AFTER_NON_WORD)
                       + "|✓|✔"),
        ),
        prescriptive=re.compile(rf"(?:{_case_blind_first_then(either('duty').split('|'), _AFTER_NON_WORD)})\b"),
    )


# Each alternative of the placeholder pattern starts with a literal character and checks what
# precedes it (a word boundary) after that character rather than before, or starts with the line
# break before a line's start: Python's regex engine then tries a match only where one of those
# characters stands instead of at every position, with the same matches.
_AFTER_NON_WORD = r"(?<!\w.)"  # the character before the first one is not a letter, digit or _


def _first_then(alternatives: list[str], check: str) -> list[str]:
    """``TBD`` -> ``T(?<!\\w.)BD``: each alternative's first character, then the check."""
    return [alternative[0] + check + alternative[1:] for alternative in alternatives]


def _case_blind_first_then(alternatives: list[str], check: str) -> str:
    """``shall`` -> ``s(?<!\\w.)(?i:hall)|S(?<!\\w.)(?i:hall)|ſ(?<!\\w.)(?i:hall)``: a case-blind
    match of the alternatives, each spelled with every first character that a case-blind match of
    it allows (a literal first character is what lets the engine skip ahead). An alternative may
    start with a character class of letters (``[eé] responsável``)."""
    spelled: list[str] = []
    for alternative in alternatives:
        end = alternative.index("]") + 1 if alternative.startswith("[") else 1
        firsts = alternative[1:end - 1] if end > 1 else alternative[0]
        for first in dict.fromkeys(variant for letter in firsts for variant in _case_variants(letter)):
            spelled.append(f"{first}{check}(?i:{alternative[end:]})")
    return "|".join(spelled)


def _case_variants(letter: str) -> list[str]:
    """The characters a case-blind match of ``letter`` matches: its cases, and those Unicode folds
    with it (dotted and dotless I, long s, the Kelvin sign)."""
    candidates = dict.fromkeys([letter, letter.lower(), letter.upper(), "\u0130", "\u0131", "\u017f", "\u212a"])
    return [c for c in candidates if len(c) == 1 and re.fullmatch(re.escape(letter), c, re.IGNORECASE)]


def _placeholder(words: list[dict[str, str]]) -> re.Pattern:
    """Placeholders a template leaves for the user: {{owner}}, <Date>, [Name], [TODO: ...],
    [INSERT COMPANY], xxx, a line of underscores, TBD, "Enter ... here" prompts. Every repetition
    is bounded: the look ahead for two capitals stops where the bracket's 51 characters would
    (unbounded, a line of 65,000 "![" took minutes). What it finds (``placeholder_spans``) never
    spans a line break."""
    bracketed = "|".join(w["placeholder"] for w in words)
    prompts = [rf"{verb}\b[^.\n]{{0,60}}(?:{w['prompt_end']})\b" for w in words for verb in w["prompt"].split("|")]
    prompt = "|".join(prompts)
    return re.compile("|".join([
        r"\{\{[^{}\n]{0,80}\}\}",
        rf"<{_AFTER_NON_WORD}(?:[A-ZÀ-Þ][^\W_]*)(?:[ _/.-][^\W_]+){{0,5}}>",
        r"\[(?:(?=[^\]\n]{0,49}[A-ZÀ-Þ]{2})[A-ZÀ-Þ0-9][A-ZÀ-Þ0-9 _/&.,:'-]{1,50}"
        rf"|(?:{bracketed})\b[^\[\]\n]{{0,60}})\]",
        *_first_then([r"x[xX]{2,}\b", r"X[xX]{2,}\b"], _AFTER_NON_WORD),
        r"__{3,}",
        r"\.\.{5,}",
        # A blank word ends where no letter follows ("N. N." as well as "TBD").
        *_first_then([rf"{blank}(?!\w)" for w in words for blank in w["blank"].split("|")], _AFTER_NON_WORD),
        rf":[ \t]*(?:{prompt})",
        rf"\n[ \t]*(?:{prompt})",  # at a line's start: read after a line break (``placeholder_spans``)
    ]))


_UNTICKED = re.compile(r"\[\s\]|☐")
_TICKED = re.compile(r"\[\s*[xX✓✔]\s*\]|☒|☑")
# A character each match of these holds: a text without any is not scanned (``_count``).
_BOX_CHARACTERS = {_UNTICKED: "[☐", _TICKED: "[☒☑"}
# Where a line ends with a colon: the only lines an unfilled field ("Date:") can be.
_COLON_AT_LINE_END = re.compile(r":[ \t]*$", re.MULTILINE)

# Requirement ids: CMMI practices anywhere ("PQA 2.1"), ISO clauses where they are cited rather
# than numbering the document's own sections: in a table row ("7.5.3 | Control of documented
# information"), or after other text on the line ("clause 9.2", "(8.4)").
_PRACTICE_AREAS = ["CAR", "CM", "CONT", "DAR", "EST", "GOV", "II", "MC", "MPM", "OT", "PAD", "PCM", "PI", "PLAN", "PQA",
                   "PR", "RDM", "RSK", "SAM", "TS", "VV"]
# Each id is matched at its first dot, with what comes before the dot looked behind for: the regex
# engine skips ahead to a dot (a spreadsheet's text has far fewer dots than digits or capitals), and
# the group in the look behind that matched says where the id starts (``_id_spans``; a match itself
# starts at the dot, so read them only through it). A look behind has one width: one for each width
# of practice area, with and without a space or underscore.
_CMMI_PRACTICE = re.compile(r"\.(?<=[1-5]\.)(?:" + "|".join(
    rf"(?<=(?<!\w)((?:{'|'.join(area for area in _PRACTICE_AREAS if len(area) == width)}){separator}[1-5])\.)"
    for width in sorted({len(area) for area in _PRACTICE_AREAS}) for separator in ("", "[ _]")
) + r")\d{1,2}\b")
# 4-9 or 10, then the clause's parts.
_ISO_CLAUSE = re.compile(r"\.(?:(?<=(?<!\w)([4-9])\.)|(?<=(?<!\w)(10)\.))[1-9]\d?(?:\.\d{1,2})*\b(?![.\d])")
# A short page that says its content is kept in another document ("Our architecture diagrams are
# included within the Software Design Specification") points to the evidence and is not evidence
# itself: a reference. Its title alone would otherwise make it evidence for what it names. (Where an
# activity "is recorded in the register", a short procedure describes it: not a pointer.)
_POINTS_ELSEWHERE = re.compile(
    r"\b(?:is|are) (?:included|described|contained|found) (?:with)?in (?:the|our) |\bpointer document\b",
    re.IGNORECASE,
)
_POINTER_WORDS = 80  # at most this many words of its own
# A list of gaps says, item after item, that requirements are not met ("Residual risk evaluation
# [[14971:6.4]] ... are not currently addressed", "these activities aren't included here"): it names
# what is missing and is evidence for none of it. A scope that excludes a topic or two is not one.
_NOT_ADDRESSED = re.compile(
    "(?:" + _case_blind_first_then(["is(?:n't| not)", "are(?:n't| not)", "not"], _AFTER_NON_WORD) + ")"
    r"(?i: (?:yet |currently )?(?:addressed|included|covered|implemented)\b)"
)
# What every such statement holds once lower-cased, where one or two characters stand for the "i"
# of included and implemented ("İ" and "ı" match it case-blind; "İ" lower-cases to "i" and a dot):
# a text without it is not searched (the pattern is tried at every a, i and n; this at the n's).
_MAY_SAY_NOT_ADDRESSED = re.compile(r"n(?:ot|'t) (?:yet |currently )?(?:addr|cov|.{1,2}ncl|.{1,2}mpl)")
_GAP_LIST_STATEMENTS = 3  # at least this many such statements ...
_GAP_LIST_WORDS = 100  # ... with at most this many words of its own for each
# A reference names at least this many ids, with this few of its own words for each.
_REFERENCE_IDS = 15
_REFERENCE_WORDS_PER_ID = 30


def document_kind(  # noqa: PLR0911  one return per kind, the first evidence that decides wins
        path: str, title: str = "", texts: Iterable[str] = (), language: str = "en",
                  focused: bool = False, *, own_words: int | None = None) -> Kind:
    """Judged from the file name, its folder, the title and, where given, the text, with the words
    of English and of the document's ``language``. ``focused``: the classifier finds the document
    mainly about one requirement (an audit programme that lists the clauses each audit covers is
    about internal audit, not a reference). ``own_words``: how many words (``count_words``) the text has,
    where the caller has counted them."""
    patterns = _patterns(language)
    words = _name_words(path, title)
    text = "\n".join(texts)
    ids = _requirement_ids(text)
    if own_words is None:
        own_words = count_words(text)
    if not focused and len(ids) >= _REFERENCE_IDS and own_words <= _REFERENCE_WORDS_PER_ID * len(ids):
        return Kind(REFERENCE, (f"cites {len(ids)} clauses or practices with {own_words} words of its own",))
    if own_words <= _POINTER_WORDS and (pointer := _POINTS_ELSEWHERE.search(text)):
        return Kind(REFERENCE, (f"points to another document ('{pointer.group(0).strip()}') with {own_words} words "
                                "of its own",))

    not_addressed = len(_NOT_ADDRESSED.findall(text)) if _MAY_SAY_NOT_ADDRESSED.search(text.lower()) else 0
    if not_addressed >= _GAP_LIST_STATEMENTS and own_words <= _GAP_LIST_WORDS * not_addressed:
        return Kind(REFERENCE, (f"says {not_addressed} times that what it lists is not addressed (a list of gaps)",))

    tables = _table_rows(text)
    blanks, filled = _blanks(text, patterns, tables), _filled(tables, text, patterns)
    blank_total, filled_total = sum(n for n, _ in blanks), sum(n for n, _ in filled)
    named_template = patterns.template_name.search(words)
    if named_template:
        return Kind(TEMPLATE, (f"named '{named_template.group(0)}'", *_describe(blanks)))
    if blank_total >= 3 and blank_total > 4 * filled_total:
        return Kind(TEMPLATE, _describe(blanks) + (_describe(filled) or ("nothing filled in",)))
    named_record = patterns.record_name.search(words)
    if named_record or record_of(path, title):
        return Kind(RECORD, (f"named '{named_record.group(0) if named_record else 'training record'}'",
                             *_describe(filled)))
    for kind, pattern in ((POLICY, patterns.policy_name), (PLAN, patterns.plan_name),
                          (PROCEDURE, patterns.procedure_name)):
        if found := pattern.search(words):
            return Kind(kind, (f"named '{found.group(0)}'",))
    if filled_total >= 3:
        return Kind(RECORD, _describe(filled))
    prescriptive = len(patterns.prescriptive.findall(text))
    if prescriptive >= 3:
        return Kind(PROCEDURE, (f"{prescriptive} statements of duty (shall, must, responsible)",))
    return Kind(OTHER)


def _requirement_ids(text: str) -> set[str]:
    ids = set(_ids(_CMMI_PRACTICE, text))
    # Table rows as they are, other lines without their first character (not the number of a
    # numbered heading), each kind joined by line breaks and searched at once: a clause number
    # never spans one, and a line break before or after it reads as the line's start or end.
    lines = [line for line in text.splitlines() if "." in line]  # no clause number without one
    ids.update(_ids(_ISO_CLAUSE, "\n".join(line for line in lines if "|" in line)))
    ids.update(_ids(_ISO_CLAUSE, "\n".join(line.lstrip()[1:] for line in lines if "|" not in line)))
    return ids


def _id_spans(pattern: re.Pattern, text: str) -> list[tuple[int, int]]:
    """Where each id ``pattern`` finds starts (its look behind's group that matched) and ends."""
    return [(match.start(match.lastindex or 0), match.end()) for match in pattern.finditer(text)]


def _ids(pattern: re.Pattern, text: str) -> list[str]:
    return [text[start:end] for start, end in _id_spans(pattern, text)]


def _blanks(text: str, patterns: _Patterns, tables: list[list[list[str]]]) -> list[tuple[int, str]]:
    placeholders = list(patterns.placeholder_spans(text))
    example = f" (e.g. {text[slice(*placeholders[0])].strip()[:30]})" if placeholders else ""
    return [
        (len(placeholders), f"placeholders{example}"),
        (_unfilled_fields(text, patterns), "unfilled fields"),
        (_count(_UNTICKED, text), "unticked boxes"),
        (sum(1 for block in tables if len(block) == 1), "tables with a header and no rows"),
    ]


def _filled(tables: list[list[list[str]]], text: str, patterns: _Patterns) -> list[tuple[int, str]]:
    return [
        (_filled_rows([row for block in tables for row in block[1:] if len(row) >= 2], patterns), "filled table rows"),
        (_count(_TICKED, text), "ticked boxes"),
    ]


def _count(box: re.Pattern, text: str) -> int:
    """How many ticked or unticked boxes (``box``) the text has; none without their characters
    (looking for those is many times quicker than trying the pattern at each one)."""
    if not any(character in text for character in _BOX_CHARACTERS[box]):
        return 0
    return len(box.findall(text))


def _unfilled_fields(text: str, patterns: _Patterns) -> int:
    """``len(patterns.unfilled_field.findall(text))``, tried only on the lines that end with a colon
    (the pattern matches a whole line, and the regex engine skips ahead to a colon where it would
    otherwise try every line)."""
    lines = []
    for colon in _COLON_AT_LINE_END.finditer(text):
        end = text.find("\n", colon.end())
        lines.append(text[text.rfind("\n", 0, colon.start()) + 1 : None if end < 0 else end])
    return len(patterns.unfilled_field.findall("\n".join(lines))) if lines else 0


def _describe(counted: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(f"{what}: {n}" for n, what in counted if n)


def _table_rows(text: str) -> list[list[list[str]]]:
    """Runs of consecutive table lines (cells separated by ``|``), each a list of rows of cells."""
    blocks: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in text.splitlines():
        if "|" in line:
            current.append(list(map(str.strip, line.split("|"))))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [block for block in blocks if len(block[0]) >= 3 or len(block) > 1]


def _filled_rows(rows: list[list[str]], patterns: _Patterns) -> int:
    """How many rows are entries of a register: three quarters of the row's cells hold something
    that is not a placeholder, and one of them is a date, a status, a result or a number. Each
    distinct cell is judged once (registers repeat their statuses, names and dates row after row)."""
    cells = list(dict.fromkeys(chain.from_iterable(rows)))
    joined = "\n".join(cells)
    # A box in a cell is a box in them all joined: look in each only where they hold one.
    unticked = {cell for cell in cells if _count(_UNTICKED, cell)} if _count(_UNTICKED, joined) else set()
    unreal = _holding(patterns.placeholder_spans(joined), cells) | unticked
    entry: dict[str, bool] = {}
    filled = 0
    for row in rows:
        kept = [cell for cell in row if cell and cell not in unreal] if unreal else list(filter(None, row))
        if len(kept) < 2 or len(kept) < 0.75 * len(row):
            continue
        for cell in sorted(kept, key=len):  # a short cell first: a number, a date, a status
            if cell not in entry:
                entry[cell] = patterns.holds_entry(cell)
            if entry[cell]:
                filled += 1
                break
    return filled


def _holding(spans: Iterable[tuple[int, int]], cells: list[str]) -> set[str]:
    """The cells in which a pattern matches, from where it matches (``spans``) in the cells joined
    by line breaks: for a pattern that never matches across one (a placeholder), one pass over the
    cells."""
    found = [start for start, _ in spans]
    if not found:  # the common case: where each cell starts is not needed
        return set()
    starts = list(accumulate((len(cell) + 1 for cell in cells), initial=0))
    return {cells[bisect_right(starts, start) - 1] for start in found}


# --- records of an activity ------------------------------------------------------------------

# Records of an activity are evidence for the requirements a catalog lists under ``records_of``,
# whatever their subject: a training questionnaire on CAPA is a training record. Words are
# compared without their accents, in every language gapscan has words for.
ACTIVITIES = ("training",)
_TRAINING = frozenset(
    "training trainings "  # en  # noqa: SIM905  words laid out by language
    "capacitacion capacitaciones formacion entrenamiento "  # es (formación also pt)
    "schulung schulungen unterweisung unterweisungen weiterbildung "  # de
    "formation formations "  # fr
    "treinamento treinamentos formacao capacitacao".split()  # pt
)
_RECORD_NOUNS = frozenset(
    "record records log logs register questionnaire questionnaires quiz quizzes attendance sheet sheets "  # noqa: SIM905  words laid out by language
    "certificate certificates checklist checklists "
    "registro registros bitacora asistencia cuestionario cuestionarios certificado certificados constancia "
    "hoja hojas lista listas "
    "nachweis nachweise protokoll fragebogen teilnehmerliste zertifikat bescheinigung aufzeichnung "
    "enregistrement enregistrements registre feuille presence emargement questionnaire attestation certificat "
    "registo registos presenca questionario ficha".split()
)
# German names are compounds whose last part is the head: "Schulungsnachweis".
_GERMAN_RECORD_HEADS = ("nachweis", "nachweise", "protokoll", "liste", "fragebogen", "zertifikat", "bescheinigung")
# Names end in their head noun in English and German: "SOP-012 training record" is a record,
# "training records procedure", "training plan" and "training presentation" are not. Spanish,
# French and Portuguese names begin with it: "Registro de capacitación", "Plan de formation".
_OTHER_HEADS = frozenset(
    "procedure procedures policy policies sop sops process processes manual instruction instructions "  # noqa: SIM905  words laid out by language
    "guideline guidelines standard standards handbook plan plans presentation slides course courses "
    "material materials matrix needs analysis "
    "procedimiento procedimientos politica proceso procesos instructivo programa planes presentacion curso cursos "
    "matriz necesidades analisis "
    "verfahren handbuch prasentation kurs unterlagen programm schulungsplan "
    "politique processus manuel programme cours support supports matrice besoins "
    "procedimento procedimentos plano planos apresentacao".split()
)
_HEAD_FIRST = frozenset(
    "registro registros bitacora asistencia cuestionario cuestionarios certificado certificados constancia hoja hojas "  # noqa: SIM905  words laid out by language
    "lista listas enregistrement enregistrements registre feuille emargement attestation certificat registo registos "
    "ficha procedimiento procedimientos politica proceso procesos instructivo programa planes presentacion curso "
    "cursos matriz politique processus manuel programme cours matrice procedimento procedimentos plano planos "
    "apresentacao".split()
)
_NOT_A_HEAD = frozenset(
    "template templates form forms example sample blank draft final copy signed completed "  # noqa: SIM905  words laid out by language
    "plantilla formulario formato ejemplo borrador copia firmado completado "
    "vorlage formular beispiel muster entwurf "
    "modele formulaire exemple brouillon copie signe "
    "modelo exemplo rascunho assinado".split()
)
# "Training" in another sense: an auditor's checklist on training, a supplier's, a model's.
_OTHER_TRAINING = frozenset(
    "audit audits supplier suppliers vendor vendors model models ml dataset datasets data "  # noqa: SIM905  words laid out by language
    "auditoria proveedor proveedores datos lieferant lieferanten modell daten fournisseur fournisseurs donnees "
    "fornecedor fornecedores dados".split()
)


def _plain(text: str, digits: bool = True) -> str:
    """``InternalAudit_report-2024`` -> ``internal audit report 2024``."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return re.sub(r"[\W_]+" if digits else r"[\W\d_]+", " ", spaced).lower()


def _words(text: str) -> list[str]:
    words = []
    for word in map(fold_accents, _plain(text, digits=False).split()):
        if word in _NOT_A_HEAD:
            continue
        training = next((t for t in _TRAINING if word.startswith(t) and len(word) > len(t) + 2), None)
        if training:  # a German compound: "schulungsnachweis" -> "schulung", "nachweis"
            words += [training, word[len(training):].removeprefix("s")]
        else:
            words.append(word)
    return words


def _is_record_noun(word: str) -> bool:
    return word in _RECORD_NOUNS or word.endswith(_GERMAN_RECORD_HEADS)


def _name_words(path: str, title: str) -> str:
    """The file name, its folder and the title as lower-case words; folders further up name
    collections ("QMS-Template", "records") more often than they describe the document. Digits
    stay: "review 2024", "Q3"."""
    name_and_folder = "/".join(path.split("/")[-2:]).rsplit(".", 1)[0]
    return f"{_plain(name_and_folder)} {title.lower()}"


def record_of(path: str, title: str = "") -> str | None:
    """The activity this document records, when its name or title says so: "questionnaire.txt" in
    "training-capa/", "SOP-012 training record.pdf", a document titled "Training attendance sheet",
    "Registro de capacitación", "Schulungsnachweis"."""
    parts = path.split("/")
    folder = _words(parts[-2]) if len(parts) > 1 else []
    name = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    # "Training record - ISO awareness": what follows a spaced dash is the subject, not the head.
    segments = [_words(part) for text in (name, title) for part in re.split(r"\s[-\u2013\u2014]\s", text)]
    every_word = set(folder).union(*segments)
    if _OTHER_TRAINING & every_word or not _TRAINING & every_word:
        return None
    for words in segments:
        heads = [w for w in words if _is_record_noun(w) or w in _OTHER_HEADS]
        if heads:
            head = heads[0] if heads[0] in _HEAD_FIRST else heads[-1]
            return "training" if _is_record_noun(head) else None
    return None
