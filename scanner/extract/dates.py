"""Dates a document states about itself near labels such as "Effective date" or "Last reviewed", in
English, Spanish ("Fecha de revisión"), German ("Gültig ab"), French ("Date d'application") and
Portuguese ("Data de revisão"), with month names in those languages ("12. März 2024")."""

from __future__ import annotations

import re
from datetime import date

# Labels live near the top of a controlled document (title block, header, revision table).
HEAD_CHARS = 5000
# A date counts when a label ends at most this many characters before it (allows "Approved by
# J. Smith on", or a table header row followed by its first data row).
_WINDOW = 80
_YEARS = range(1990, 2101)

# The first letters of the labels below: a look ahead for them lets the regex engine pass every
# other word at once instead of trying each label there (tests/test_multilingual.py checks it
# against the labels).
_LABEL_FIRST_LETTERS = "adefgilmprsuvzú"
_LABEL = re.compile(
    rf"\b(?=[{_LABEL_FIRST_LETTERS}])"
    r"(?:effective(?:\s+date)?|review(?:ed)?\s+date|date\s+of\s+(?:issue|approval|review)"
    r"|issue\s+date|date\s+issued|issued|approved|approval\s+date|revision\s+date|revised"
    r"|last\s+(?:reviewed|review|updated|modified|revised)|updated|published|version\s+date"
    # Spanish and Portuguese
    r"|(?:fecha|data)\s+de\s+(?:revisi[oó]n|revis[aã]o|aprobaci[oó]n|aprova[cç][aã]o|emisi[oó]n|emiss[aã]o"
    r"|vigencia|vig[eê]ncia|actualizaci[oó]n|atualiza[cç][aã]o|entrada\s+em\s+vigor|entrada\s+en\s+vigor)"
    r"|vigente\s+(?:desde|a\s+partir\s+de)|en\s+vigor|em\s+vigor|[uú]ltima\s+(?:revisi[oó]n|revis[aã]o"
    r"|actualizaci[oó]n|atualiza[cç][aã]o)|aprobad[oa]|aprovad[oa]|revisad[oa]|actualizad[oa]|atualizad[oa]"
    # German
    r"|g[uü]ltig\s+ab|g[uü]ltigkeitsdatum|freigabedatum|freigegeben\s+am|ausgabedatum|revisionsdatum|stand"
    r"|zuletzt\s+(?:ge[aä]ndert|aktualisiert|gepr[uü]ft)|letzte\s+[uü]berpr[uü]fung|gepr[uü]ft\s+am"
    r"|in\s+kraft\s+(?:seit|ab)"
    # French
    r"|date\s+d['’](?:application|effet|approbation|[eé]mission|entr[eé]e\s+en\s+vigueur)"
    r"|date\s+de\s+(?:r[eé]vision|mise\s+[aà]\s+jour|publication|validation)|mis\s+[aà]\s+jour\s+le"
    r"|approuv[eé]e?\s+le|r[eé]vis[eé]e?\s+le|derni[eè]re\s+(?:r[eé]vision|mise\s+[aà]\s+jour)"
    r"|applicable\s+(?:au|à\s+partir\s+du|le)"
    # A bare "Date" counts as a label only before a colon, a cell border or a line end (the
    # last column of a revision table's header row); so do "Fecha", "Datum" and "Data".
    r"|(?:date|fecha|datum|data)(?=[ \t]*(?:[:|]|$)))",
    re.IGNORECASE | re.MULTILINE,
)

# Month names and abbreviations in English, Spanish, German, French and Portuguese.
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "enero", "ene", "januar", "jänner", "janvier", "janv", "janeiro"),
            ("february", "feb", "febrero", "februar", "février", "fevrier", "févr", "fevr", "fevereiro", "fev"),
            ("march", "mar", "marzo", "märz", "marz", "mrz", "mars", "março", "marco"),
            ("april", "apr", "abril", "abr", "avril", "avr"),
            ("may", "mayo", "mai", "maio"),
            ("june", "jun", "junio", "juni", "juin", "junho"),
            ("july", "jul", "julio", "juli", "juillet", "juil", "julho"),
            ("august", "aug", "agosto", "ago", "août", "aout"),
            ("september", "sept", "sep", "septiembre", "setiembre", "septembre", "setembro", "set"),
            ("october", "oct", "octubre", "oktober", "okt", "octobre", "outubro", "out"),
            ("november", "nov", "noviembre", "novembre", "novembro"),
            ("december", "dec", "diciembre", "dic", "dezember", "dez", "décembre", "decembre", "déc", "dezembro"),
        ),
        start=1,
    )
    for name in names
}
# The look ahead for a month name's first letter lets the engine pass over every other word at
# once instead of trying each name there: three times as quick on the generated documents' heads,
# with the same matches (a case-blind class and a case-blind letter take the same characters).
_MONTH = (f"(?=[{''.join(sorted({name[0] for name in _MONTHS}))}])"
          "(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?")
# "12th", "1er", "1º", "12." (German), and Spanish and Portuguese "12 de marzo de 2024".
_ORDINAL = r"(?:st|nd|rd|th|er|º|\.)?"
_OF = r"(?:de\s+|del\s+)?"

_DATE = re.compile(
    "|".join(
        (
            r"\b(?P<iso_y>\d{4})[-/](?P<iso_m>\d{1,2})[-/](?P<iso_d>\d{1,2})\b",
            r"\b(?P<num_a>\d{1,2})[/.-](?P<num_b>\d{1,2})[/.-](?P<num_y>\d{4})\b",
            rf"\b(?P<dm_d>\d{{1,2}}){_ORDINAL}[\s-]+{_OF}{_MONTH.replace('month_name', 'dm_m')}"
            rf"[\s,-]+{_OF}(?P<dm_y>\d{{4}})\b",
            rf"\b{_MONTH.replace('month_name', 'md_m')}\s+(?P<md_d>\d{{1,2}}){_ORDINAL},?\s+"
            r"(?P<md_y>\d{4})\b",
        )
    ),
    re.IGNORECASE,
)


def dates_in_text(text: str) -> tuple[str, ...]:
    """ISO dates (sorted, unique) written near a date label in the first part of ``text``."""
    head = text[:HEAD_CHARS]
    label_ends = [match.end() for match in _LABEL.finditer(head)]
    found: set[str] = set()
    for match in _DATE.finditer(head):
        if not any(0 <= match.start() - end <= _WINDOW for end in label_ends):
            continue
        parsed = _parse(match)
        if parsed is not None and parsed.year in _YEARS:
            found.add(parsed.isoformat())
    return tuple(sorted(found))


def first_date(text: str) -> str:
    """The first date written in ``text`` (a LaTeX ``\\date``, say) as ``YYYY-MM-DD``, or ""."""
    for match in _DATE.finditer(text):
        parsed = _parse(match)
        if parsed is not None and parsed.year in _YEARS:
            return parsed.isoformat()
    return ""


def _parse(match: re.Match[str]) -> date | None:
    groups = match.groupdict()
    if groups["iso_y"]:
        return _valid(groups["iso_y"], groups["iso_m"], groups["iso_d"])
    if groups["num_y"]:
        # Day first (01/03/2024 is 1 March), unless only month-first makes a valid date.
        return _valid(groups["num_y"], groups["num_b"], groups["num_a"]) or _valid(
            groups["num_y"], groups["num_a"], groups["num_b"]
        )
    if groups["dm_y"]:
        return _valid(groups["dm_y"], _MONTHS[groups["dm_m"].lower()], groups["dm_d"])
    return _valid(groups["md_y"], _MONTHS[groups["md_m"].lower()], groups["md_d"])


def _valid(year: str | int, month: str | int, day: str | int) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
