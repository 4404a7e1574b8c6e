"""Quality systems written in Spanish, German, French and Portuguese: read in their own language,
scored against that language's profiles, judged with that language's words for kinds and dates, and
reported in English."""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from fixtures import demo_twins
from fixtures.documents import DocSpec, Part, write_document
from fixtures.languages import FRENCH, GERMAN, PORTUGUESE, SPANISH
from gapscan.classifiers import analysis
from gapscan.classifiers.analysis import SurfaceForms, analyzer, count_words, terms
from gapscan.classifiers.doctype import PROCEDURE, RECORD, TEMPLATE, document_kind, record_of
from gapscan.classifiers.evaluate import fit
from gapscan.classifiers.labels import Labelled, label_class
from gapscan.classifiers.profiles import profile_text
from gapscan.classifiers.tfidf import Tagger
from gapscan.mappings import CatalogError, bundled_catalogs, bundled_regimes, load_catalog, load_catalogs
from gapscan.scanner.config import Config
from gapscan.scanner.common.documents import Document, Extract, Metadata, Section, format_of
from gapscan.scanner.extract import Limits, extract_file
from gapscan.scanner.extract import dates
from gapscan.scanner.extract.dates import dates_in_text
from gapscan.scanner.pipeline import scan

LANGUAGES = ("es", "de", "fr", "pt")
TODAY = date(2026, 11, 25)


def extract(path: str, *sections: tuple[str, str], title: str = "", language: str = "") -> Extract:
    return Extract(Document(path, "md", 1, 0.0), tuple(Section(*s) for s in sections), Metadata(title=title),
                   language=language)


def read(path: Path) -> Extract:
    stat = path.stat()
    result = extract_file(path, Document(path.name, format_of(path.name), stat.st_size, stat.st_mtime), Limits())
    assert isinstance(result, Extract), result
    return result


# --- words --------------------------------------------------------------------------------------

def test_the_tokenizer_keeps_letters_of_every_script():
    assert "revision" in terms("Fecha de revisión", "es")  # not "revisi"
    assert terms("Qualitätsmanagementhandbuch", "de") == ["qualitatsmanagementhandbuch"]
    assert terms("Система менеджмента качества", "ru") == ["систем", "менеджмент", "качеств", "систем менеджмент",
                                                           "менеджмент качеств"]
    assert "質量管理" in terms("質量管理 体系", "zh")  # no stemmer: whole words


def test_the_c_stemmer_gives_the_stems_of_snowball_in_python():
    """PyStemmer (C) stems as Snowball's pure-Python stemmers do, which the shipped model and the
    evaluation figures were made with: every word of the catalogs and of the language fixtures,
    through the algorithm of each language a catalog reads (documents in no such language are read
    by no framework)."""
    import Stemmer

    texts = [p for fixture in (SPANISH, PORTUGUESE, GERMAN, FRENCH) for part in fixture.parts for p in part.paragraphs]
    languages = set()
    for catalog in bundled_catalogs().values():
        for language in catalog.languages:
            translated = catalog.in_language(language)
            texts += [profile_text(translated, requirement) for requirement in translated.requirements]
            languages.add(language)
    words = sorted({analysis.fold_accents(w) for text in texts for w in re.findall(r"[^\W\d_]{2,}", text.casefold())})
    assert len(words) > 5_000 and languages >= {"en", "es", "de", "fr", "pt"}
    for algorithm in sorted(analysis._SNOWBALL[language] for language in languages):
        in_c = Stemmer.Stemmer(algorithm)
        in_python = getattr(importlib.import_module(f"snowballstemmer.{algorithm}_stemmer"),
                            f"{algorithm.title()}Stemmer")()
        assert [w for w in words if in_c.stemWord(w) != in_python.stemWord(w)] == [], algorithm


def test_accents_do_not_matter_and_stop_words_go():
    assert terms("auditoría interna de la calidad", "es") == terms("auditoria interna de la calidad", "es")
    assert terms("de la", "es") == [] and terms("der die das und", "de") == [] and terms("le la les", "fr") == []
    assert terms("Gültig ab", "de") == terms("Gultig ab", "de")
    # A form's furniture is not a term, in any language (as "template", "form" and "approved" in English).
    assert terms("Plantilla formulario aprobado", "es") == [] and terms("Verfahrensanweisung", "de") == []


@pytest.mark.parametrize(("language", "variants"), [
    ("es", ("no conformidad", "no-conformidad", "noconformidad")),
    ("fr", ("non-conformité", "non conformité", "nonconformité")),
    ("pt", ("não conformidade", "não-conformidade", "nao conformidade")),
])
def test_a_nonconformity_is_one_word_however_it_is_written(language, variants):
    assert len({tuple(terms(text, language)) for text in variants}) == 1


def test_terms_are_stems_and_the_document_says_how_it_writes_them():
    spanish = analyzer("es")
    as_written = SurfaceForms("Las Auditorías internas del año. La revisión por la dirección, y la Revisión por "
                              "la Dirección de la ISO.", "es")
    assert as_written(spanish.stem("auditorías")) == "auditorías"
    # A pair is shown with the Spanish stop words between its two words, in its most frequent form.
    pair = " ".join(terms("revisión dirección", "es")[:2])
    assert as_written(pair) == "revisión por la dirección"
    assert as_written(spanish.stem("ISO")) == "ISO"  # an acronym keeps its capitals


# Pieces of text where the fast ways of finding words (ASCII byte passes, word numbers) and the plain
# one (``_WORD`` over the case-folded text) part if either is wrong: letters outside ASCII, characters
# that only separate words or that become letters when case-folded (Turkish dotted I, Greek iota
# subscript), digits, negations, stop words, one-letter words.
_PIECES = [*"aZé -\t\n\u00a0_1²’–“İßͅ", "non", "Non-", "no ", "nicht ", "não", "conformidad", "konform",
           "quality", "Quality", "QUALITY", "management", "the ", " of ", "de la ", "Audit", "audits", "x", "CAPA"]
_ASCII_PIECES = [piece for piece in _PIECES if piece.isascii()] + ["\u2019", "\u2013 "]


@pytest.mark.parametrize("language", ["en", "es", "de", "pt"])
def test_counted_terms_and_words_are_those_the_word_pattern_finds(language, monkeypatch):
    monkeypatch.setattr(analysis, "_NUMBERED_FROM", 0)  # short texts too are counted as long ones are
    rng = random.Random(language)
    words = analyzer(language)
    for _ in range(5_000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 40)))
        assert list(words.counts(text).items()) == list(Counter(words.terms(text)).items()), repr(text)
        assert count_words(text) == len(re.findall(r"[^\W\d_]{2,}", text)), repr(text)
        plain = re.findall(r"[^\W\d_]{2,}", words.joined(text.casefold()))
        assert words.words(text) == [w for w in plain if w not in words.stop_words], repr(text)
        # Counted from the words found to name terms: the same, where those were found in bytes.
        from_forms = SurfaceForms(text, language).counts()
        if from_forms is not None:
            assert list(from_forms.items()) == list(Counter(words.terms(text)).items()), repr(text)


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_text_names_its_terms_alike_however_its_words_are_found(language):
    """An ASCII text's words are found in byte passes, another's with the word pattern: a letter
    outside ASCII that makes no word must not change how any term is named."""
    rng = random.Random(language)
    for _ in range(2_000):
        text = "".join(rng.choice(_ASCII_PIECES) for _ in range(rng.randint(0, 40)))
        in_bytes, by_pattern = SurfaceForms(text, language), SurfaceForms(f"{text}\né", language)
        for term in dict.fromkeys(terms(text, language)):
            assert in_bytes(term) == by_pattern(term), (text, term)


# --- catalogs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("catalog_id", ["iso9001-2015", "cmmi-v2-dev"])
def test_every_requirement_has_a_profile_in_every_language(catalog_id):
    catalog = bundled_catalogs()[catalog_id]
    assert catalog.languages == ("en", "de", "es", "fr", "pt")
    for language in LANGUAGES:
        translated = catalog.in_language(language)
        assert [r.id for r in translated.requirements] == [r.id for r in catalog.requirements]
        for mine, english in zip(translated.requirements, catalog.requirements, strict=True):
            assert (mine.kind, mine.level, mine.evidence, mine.records_of) == (
                english.kind, english.level, english.evidence, english.records_of)
            if english.kind == "requirement":
                assert mine.intent and mine.keywords and mine.intent != english.intent, (language, mine.id)
                assert not set(mine.keywords) <= set(english.keywords), (language, mine.id)


# Official titles that are the same word in the language, and practice-area names, which appraisals
# keep in English.
SAME_TITLE = {("fr", "5"), ("fr", "7"), ("fr", "7.1.3"), ("fr", "7.4")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_titles_are_not_copied_from_english(language):
    for catalog in bundled_catalogs().values():
        for mine, english in zip(catalog.in_language(language).requirements, catalog.requirements, strict=True):
            if catalog.id == "cmmi-v2-dev" and english.kind == "group":
                assert mine.title == english.title  # the practice-area name
            elif (language, english.id) not in SAME_TITLE:
                assert mine.title != english.title, (language, catalog.id, english.id)


def test_iso_titles_are_the_official_translations():
    iso = bundled_catalogs()["iso9001-2015"]
    assert iso.in_language("es").get("9.2").title == "Auditoría interna"
    assert iso.in_language("de").get("9.3").title == "Managementbewertung"
    assert iso.in_language("fr").get("10.2").title == "Non-conformité et action corrective"
    assert iso.in_language("pt").get("9.3").title == "Análise crítica pela direção"
    assert iso.in_language("en") is iso  # its own language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_regime_speaks_every_language(language):
    assert [r.id for r in bundled_regimes(language)] == [r.id for r in bundled_regimes("en")]


def _user_catalog(folder: Path) -> Path:
    path = folder / "audit.catalog.toml"
    path.write_text(
        'id = "audit"\ntitle = "Audit"\nversion = "1"\nlicence = "ours"\n'
        '[[requirements]]\nid = "A"\ntitle = "Audits"\nkind = "group"\n'
        '[[requirements]]\nid = "A.1"\ntitle = "Internal audit"\nkind = "requirement"\nparent = "A"\n'
        'intent = "Plan and run internal audits."\nevidence = "retain"\ntypical_evidence = ["audit report"]\n'
        'keywords = ["internal audit", "audit programme", "findings"]\n', encoding="utf-8")
    return path


def test_a_users_catalog_reads_the_languages_of_the_profiles_beside_it(tmp_path):
    _user_catalog(tmp_path)
    (tmp_path / "audit.es.profiles.toml").write_text(
        'catalog = "audit"\nlanguage = "es"\nlicence = "ours"\n'
        '[[requirements]]\nid = "A"\ntitle = "Auditorías"\n'
        '[[requirements]]\nid = "A.1"\ntitle = "Auditoría interna"\nintent = "Planificar y realizar auditorías."\n'
        'keywords = ["auditoría interna", "programa de auditorías", "hallazgos"]\n', encoding="utf-8")
    catalog = load_catalogs([tmp_path])["audit"]
    assert catalog.languages == ("en", "es") and catalog.reads("es") and not catalog.reads("de")
    assert catalog.in_language("es").get("A.1").keywords == ("auditoría interna", "programa de auditorías", "hallazgos")
    tagger = Tagger([(catalog, None)])
    spanish = extract("auditoria.md", ("Desarrollo", " ".join(p for part in SPANISH.parts for p in part.paragraphs)),
                      title=SPANISH.title, language="es")
    (found,) = tagger.evidence(spanish)
    assert found.tag and found.requirement == "A.1"


@pytest.mark.parametrize(("text", "message"), [
    ('catalog = "audit"\nlanguage = "es"\nlicence = "x"\n[[requirements]]\nid = "A"\ntitle = "Auditorías"\n',
     "requirement 'A.1': no profile in es"),
    ('catalog = "other"\nlanguage = "es"\nlicence = "x"\n[[requirements]]\nid = "A"\ntitle = "Auditorías"\n',
     "field 'catalog': 'other', expected 'audit'"),
    ('catalog = "audit"\nlanguage = "es"\nlicence = "x"\n[[requirements]]\nid = "A"\ntitle = "Auditorías"\n'
     '[[requirements]]\nid = "A.1"\ntitle = "Auditoría interna"\nkeywords = ["auditoría"]\n',
     "requirement 'A.1': field 'intent': required but missing"),
    ('catalog = "audit"\nlanguage = "es"\nlicence = "x"\n[[requirements]]\nid = "B"\ntitle = "Otra"\n',
     "requirement 'B': field 'id': not a requirement of catalog 'audit'"),
])
def test_a_broken_translation_names_file_requirement_and_field(tmp_path, text, message):
    _user_catalog(tmp_path)
    (tmp_path / "audit.es.profiles.toml").write_text(text, encoding="utf-8")
    catalog = load_catalog(tmp_path / "audit.catalog.toml")
    with pytest.raises(CatalogError) as raised:
        catalog.in_language("es")
    assert "audit.es.profiles.toml" in str(raised.value) and message in str(raised.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_a_translation_that_is_no_regular_file_is_never_opened(tmp_path):
    _user_catalog(tmp_path)
    os.mkfifo(tmp_path / "audit.es.profiles.toml")  # opening it would block for good
    (tmp_path / "audit.de.profiles.toml").mkdir()
    catalog = load_catalog(tmp_path / "audit.catalog.toml")
    assert catalog.languages == ("en", "de", "es")
    for language, what in (("es", "a FIFO (named pipe)"), ("de", "a folder")):
        with pytest.raises(CatalogError) as raised:
            catalog.in_language(language)
        assert str(raised.value) == (f"{tmp_path / f'audit.{language}.profiles.toml'}: {what}, not a regular file: "
                                     "never opened")


# --- documents in each language ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tagger():
    catalogs = bundled_catalogs()
    return Tagger([(catalogs["iso9001-2015"], None), (catalogs["cmmi-v2-dev"], 3)])


def _tags(tagger, spec: DocSpec, path: str, language: str) -> dict[str, str]:
    document = extract(path, *[(part.heading, "\n".join(part.paragraphs)) for part in spec.parts],
                       title=spec.title, language=language)
    return {e.framework: e.requirement for e in tagger.evidence(document) if e.tag}


@pytest.mark.parametrize(("spec", "path", "language", "clause", "area"), [
    (SPANISH, "procedimientos/procedimiento-auditoria-interna.md", "es", "9.2", "PQA"),
    (GERMAN, "verfahren/lenkung-von-dokumenten.md", "de", "7.5.3", None),
    (FRENCH, "procedures/procedure-non-conformites.md", "fr", "10.2", "CAR"),
    (PORTUGUESE, "procedimentos/avaliacao-de-fornecedores.md", "pt", "8.4.1", "SAM"),
])
def test_a_document_is_scored_against_the_profiles_of_its_language(tagger, spec, path, language, clause, area):
    tags = _tags(tagger, spec, path, language)
    assert tags["iso9001-2015"] == clause
    if area:
        assert tags["cmmi-v2-dev"].split(" ")[0] == area


def test_evidence_terms_are_shown_as_the_document_writes_them(tagger):
    document = extract("procedimiento-auditoria.md", ("Desarrollo", "\n".join(SPANISH.parts[2].paragraphs)),
                       ("Objeto", SPANISH.parts[0].paragraphs[0]), title=SPANISH.title, language="es")
    (audit,) = [e for e in tagger.evidence(document) if e.tag and e.framework == "iso9001-2015"]
    assert "auditoría" in audit.terms or "auditoría interna" in audit.terms, audit.terms
    assert not any(re.search(r"\bauditori\b", t) for t in audit.terms)


def test_a_mixed_document_reads_each_section_in_its_own_language(tmp_path, tagger):
    """A Spanish supplier procedure with an English appendix on internal audit: the appendix is
    marked English when the document is read, and scored with the English profiles."""
    appendix = ("The quality manager prepares the annual internal audit programme so that every process is "
                "audited at least once a year. Auditors are trained and independent of the work they audit. "
                "Each audit has an audit plan; the audit report lists findings, nonconformities and observations "
                "and goes to top management, and findings are followed up until closed. ") * 2
    spec = DocSpec("Procedimiento de compras", (
        Part("Evaluación de proveedores", (
            "Cada proveedor se evalúa una vez al año según la calidad, el plazo de entrega y el precio. Solo se "
            "compra a proveedores de la lista de proveedores aprobados; un proveedor con mala evaluación se "
            "reevalúa a los seis meses y, si no mejora, se retira de la lista. " * 6,)),
        Part("Appendix A: internal audit of purchasing", (appendix,)),
    ))
    document = read(write_document(tmp_path / "compras.md", spec))
    assert document.language == "es"
    languages = {section.locator: section.language for section in document.sections}
    assert languages["Appendix A: internal audit of purchasing"] == "en"
    assert languages["Evaluación de proveedores"] == ""  # the document's own language
    scores = {(e.framework, e.requirement): e for e in tagger.score(document).candidates}
    audit = scores[("iso9001-2015", "9.2")]
    assert audit.locator == "Appendix A: internal audit of purchasing"
    assert "internal audit" in audit.terms


# --- kinds and dates ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "title", "text", "language", "kind"), [
    ("registros/informe-auditoria-interna-2026.md", "", "", "es", RECORD),
    ("procedimientos/procedimiento-compras.docx", "", "", "es", PROCEDURE),
    ("plantillas/acta.md", "", "", "es", TEMPLATE),
    ("nachweise/auditbericht-2026.pdf", "", "", "de", RECORD),
    ("verfahren/verfahrensanweisung-einkauf.docx", "", "", "de", PROCEDURE),
    ("enregistrements/compte-rendu-revue-de-direction.docx", "", "", "fr", RECORD),
    ("procedures/procedure-achats.docx", "", "", "fr", PROCEDURE),
    ("registros/ata-reuniao.docx", "", "", "pt", RECORD),
    ("modelos/modelo-relatorio.docx", "", "", "pt", TEMPLATE),
    ("diseno/modelo-de-datos.md", "", "", "es", "other"),  # a data model, not a template, in Spanish
    ("x/informe.md", "", "Fecha: [A COMPLETAR]\nResponsable: [NOMBRE DEL RESPONSABLE]\nFirma:\nObservaciones:\n",
     "es", TEMPLATE),
    # A register whose rows hold measured numbers, with their units in the document's language.
    ("x/kennzahlen.md", "", "Kennzahl | Januar | Februar\nDurchlaufzeit | 4 Tage | 3 Tage\n"
     "Schulungszeit | 6 Stunden | 8 Stunden\nPrüfdauer | 2,5 Std | 3 Std\n", "de", RECORD),
    ("x/indicadores.md", "", "Indicador | Enero | Febrero\nTiempo de respuesta | 4 días | 3 días\n"
     "Formación | 6 horas | 8 horas\nInspección | 2,5 h | 3 h\n", "es", RECORD),
])
def test_document_kinds_in_each_language(path, title, text, language, kind):
    assert document_kind(path, title, [text], language).kind == kind


@pytest.mark.parametrize(("path", "title", "activity"), [
    ("registros/registro-de-capacitacion-2026.csv", "", "training"),
    ("nachweise/schulungsnachweis-2026.csv", "", "training"),
    ("enregistrements/feuille-emargement-formation.pdf", "", "training"),
    ("registros/lista-de-presenca-treinamento.pdf", "", "training"),
    ("planes/plan-de-capacitacion-2026.docx", "", None),  # a plan: the head noun comes first
    ("verfahren/schulungsplan.docx", "", None),
    ("procedures/procedure-de-formation.docx", "", None),
    ("x/y.md", "Registro de formación de auditores", "training"),
])
def test_records_of_training_in_each_language(path, title, activity):
    assert record_of(path, title) == activity


@pytest.mark.parametrize(("text", "found"), [
    ("Fecha de revisión: 12 de marzo de 2024", "2024-03-12"),
    ("Gültig ab: 01.04.2025", "2025-04-01"),
    ("Stand: 12. März 2024", "2024-03-12"),
    ("Date d'application : 1er mars 2024", "2024-03-01"),
    ("Data de revisão: 5 de maio de 2023", "2023-05-05"),
    ("| Versión | Fecha | Autor |\n| 3 | 2024-02-01 | M. Ruiz |", "2024-02-01"),
])
def test_dates_are_read_in_each_language(text, found):
    assert dates_in_text(text) == (found,)


def _first_letters(items: list) -> set[str]:
    """The characters a parsed regex (``re._parser``) can start with: literals, classes of them, and
    alternatives and groups of those."""
    from re import _constants as sre  # noqa: PLC0415

    op, value = items[0]
    if op is sre.LITERAL:
        return {chr(value)}
    if op is sre.IN:
        assert all(kind is sre.LITERAL for kind, _ in value), value
        return {chr(code) for _, code in value}
    if op is sre.BRANCH:
        return set().union(*map(_first_letters, value[1]))
    assert op is sre.SUBPATTERN, op
    return _first_letters(value[-1])


def test_the_label_pattern_finds_what_it_finds_without_its_look_ahead_for_a_first_letter():
    from re import _parser  # noqa: PLC0415

    plain = re.compile(dates._LABEL.pattern.replace(f"(?=[{dates._LABEL_FIRST_LETTERS}])", ""), dates._LABEL.flags)
    assert plain.pattern != dates._LABEL.pattern
    _, labels = _parser.parse(plain.pattern, plain.flags).data  # a word boundary, the labels
    assert _first_letters([labels]) == set(dates._LABEL_FIRST_LETTERS)
    # Case-blind, the look ahead takes what the labels' first letters take (a long s for an s): the
    # labels' words as the pattern spells them, a character class's letters each a word of its own.
    words = sorted(set(re.findall(r"[^\W\d_]+", re.sub(r"\\[sb]|\(\?[:=]", " ", plain.pattern))))
    pieces = [*" \t\n:|-'’", "ſ", "İ", "K", *words, *(w.upper() for w in words), *(w.title() for w in words)]
    rng = random.Random(6)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert [m.span() for m in dates._LABEL.finditer(text)] == [m.span() for m in plain.finditer(text)], repr(text)


def test_the_date_pattern_finds_what_it_finds_without_its_look_ahead_for_a_month():
    plain = re.compile(re.sub(r"\(\?=\[[a-z]+\]\)", "", dates._DATE.pattern), dates._DATE.flags)
    assert plain.pattern != dates._DATE.pattern
    names = sorted(dates._MONTHS)
    months = [*names, *(n.upper() for n in names), *(n.title() for n in names), "ſeptember", "ſet", "ſept", "Ⅿar"]
    pieces = [*" -,./\n12349", "2024", "12 ", "de ", "ſ", "İ", "K", "é", "th", *([""] * 10)]
    rng = random.Random(5)
    for _ in range(20_000):  # months among digits and separators: dates, nearly dates, and other text
        text = "".join(rng.choice(months if rng.random() < 0.3 else pieces) for _ in range(rng.randint(0, 12)))
        assert [m.span() for m in dates._DATE.finditer(text)] == [m.span() for m in plain.finditer(text)], repr(text)


# --- the supervised model -------------------------------------------------------------------------

def test_a_model_learns_the_language_its_labelled_documents_are_written_in(tmp_path):
    audit = " ".join(p for part in SPANISH.parts for p in part.paragraphs)
    purchasing = " ".join(p for part in PORTUGUESE.parts for p in part.paragraphs)
    extracts = {f"org/{i}.md": extract(f"org/{i}.md", ("texto", text), language=lang) for i, (text, lang) in
                enumerate([(audit, "es"), (audit + " programa", "es"), ("compras a proveedores " * 20, "es"),
                           ("proveedores aprobados " * 20, "es"), (purchasing, "pt")])}
    labels = [Labelled(p, {"iso9001-2015": frozenset({"9.2"} if i < 2 else {"8.4"})}) for i, p in enumerate(extracts)]
    model = fit(labels, extracts, {"training_hash": "x"})
    assert model.language == "es" and model.info["documents"] == 4  # the Portuguese one is not its language
    model.save(tmp_path / "m.npz")
    loaded = type(model).load(tmp_path / "m.npz")
    assert loaded.language == "es" and "auditori" in " ".join(loaded.vocabulary)
    catalogs = bundled_catalogs()
    tagger = Tagger([(catalogs["iso9001-2015"], None)], supervised=loaded)
    spanish = extracts["org/0.md"]
    with_model = {e.requirement: e.score for e in tagger.score(spanish).candidates}
    without = {e.requirement: e.score for e in Tagger([(catalogs["iso9001-2015"], None)]).score(spanish).candidates}
    assert with_model != without  # it reads Spanish documents ...
    english = replace(spanish, language="en")
    assert ({e.requirement: e.score for e in tagger.score(english).candidates}
            == {e.requirement: e.score for e in Tagger([(catalogs["iso9001-2015"], None)]).score(english).candidates})


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_texts_counts_keep_every_term_a_model_reading_its_language_looks_up(language, tmp_path):
    """The tagger keeps only the terms its models look up; each model reads those counts as it
    reads all of the text's (the profiles of each framework, the supervised model, the scope)."""
    texts = [" ".join(p for part in SPANISH.parts for p in part.paragraphs),
             "The internal audit programme sets each audit's scope and criteria; non-conforming findings are tracked.",
             "Corrective action: the owner contains a nonconformity, finds its root cause and verifies the action."]
    extracts = {f"org/{i}.md": extract(f"org/{i}.md", ("text", text), language=language)
                for i, text in enumerate([texts[0], texts[0] + " programa", texts[1] * 3, texts[2] * 3])}
    labels = [Labelled(p, {"iso9001-2015": frozenset({"9.2"} if i < 2 else {"10.2"})}) for i, p in enumerate(extracts)]
    catalogs = bundled_catalogs()
    tagger = Tagger([(catalogs["iso9001-2015"], None), (catalogs["cmmi-v2-dev"], 3)],
                    supervised=fit(labels, extracts, {"training_hash": "x"}))
    assert tagger.supervised.language == language
    # Past _NUMBERED_FROM; its shuffled words make pairs no model knows.
    long_text = " ".join(random.Random(7).choices(" ".join(texts).split(), k=8000))
    assert len(tagger._counts(long_text, language)) < len(analyzer(language).counts(long_text))
    for text in [*texts, long_text]:
        every, kept = analyzer(language).counts(text), tagger._counts(text, language)
        models = [tagger._profile(p, language) for p in range(2) if tagger.reading_language(p, language) == language]
        for model in [*models, tagger._scope(language).similarity]:
            assert (model.transform_counts([kept]) != model.transform_counts([every])).nnz == 0
        features = tagger.supervised.features_of_counts
        assert (features([kept]) != features([every])).nnz == 0


# --- whole scans ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twin_folders(tmp_path_factory):
    """Each twin built and scanned once: language -> (its folder, its index, its report)."""
    twins = {}
    for language in demo_twins.LANGUAGES:
        folder = tmp_path_factory.mktemp(f"twin-{language}")
        root = demo_twins.build(folder / "qms", language)
        index = folder / "index.sqlite"
        twins[language] = (root, index, scan(root, Config(), index_path=index, jobs=2, today=TODAY).report)
    return twins


@pytest.fixture(scope="module")
def twin_reports(twin_folders):
    return {language: report for language, (_, _, report) in twin_folders.items()}


def _verdicts(report) -> dict[tuple[str, str], str]:
    return {(f.id, v.id): v.status for f in report.frameworks for v in f.verdicts}


_BEST_FIRST = ("covered", "partial", "missing", "not_applicable")


def _area_verdicts(report, framework: str) -> dict[str, str]:
    """The best verdict of each of a framework's label classes (a CMMI practice area)."""
    best: dict[str, str] = {}
    for (fw, requirement), status in _verdicts(report).items():
        if fw == framework:
            area = label_class(fw, requirement)
            best[area] = min(best.get(area, status), status, key=_BEST_FIRST.index)
    return best


def _classes_of_documents(report, language: str) -> dict[str, set[tuple[str, str]]]:
    """The ISO clauses and CMMI practice areas each document is evidence for, by its English twin's path."""
    english_path = {twin.path[language]: twin.path["en"] for twin in demo_twins.DOCUMENTS}
    classes: dict[str, set[tuple[str, str]]] = {path: set() for path in english_path.values()}
    for framework in report.frameworks:
        for verdict in framework.verdicts:
            for evidence in verdict.evidence:
                classes[english_path[evidence.path]].add((framework.id, label_class(framework.id, verdict.id)))
    return classes


@pytest.mark.slow
@pytest.mark.parametrize("language", ["de", "fr", "es", "pt"])
def test_each_twin_gets_the_verdicts_of_the_english_one(twin_reports, language):
    english, twin = twin_reports["en"], twin_reports[language]
    iso = {k: v for k, v in _verdicts(english).items() if k[0] == "iso9001-2015"}
    assert {k: (iso[k], _verdicts(twin)[k]) for k in iso if iso[k] != _verdicts(twin)[k]} == {}
    # CMMI practice area by practice area: a document is evidence for each practice of its best
    # area that reaches 80 % of the best, and which of them do depends on how each language words
    # its practices (and English documents are also read by the supervised model, which learns
    # whole practice areas).
    assert _area_verdicts(twin, "cmmi-v2-dev") == _area_verdicts(english, "cmmi-v2-dev")
    assert _classes_of_documents(twin, language) == _classes_of_documents(english, "en")
    assert all(d.language in (language, "und") and d.assessed for d in twin.documents)


@pytest.mark.slow
def test_the_twins_tell_the_story_their_module_promises(twin_reports):
    for report in twin_reports.values():
        verdicts = _verdicts(report)
        for framework, clause in demo_twins.STALE.items():
            assert verdicts[(framework, clause)] == "partial"
        for framework, clause in demo_twins.PROCEDURE_ONLY.items():
            assert verdicts[(framework, clause)] == "partial"
        assert verdicts[("iso9001-2015", "10.2")] == verdicts[("iso9001-2015", "9.3.3")] == "covered"
        assert verdicts[("iso9001-2015", "7.1.5")] == "missing"


@pytest.mark.slow
def test_reports_stay_in_english(twin_reports):
    german = twin_reports["de"]
    (iso,) = [f for f in german.frameworks if f.id == "iso9001-2015"]
    audit = next(v for v in iso.verdicts if v.id == "9.2")
    assert audit.title == "Internal audit" and audit.reason.startswith("The records are stale")
    assert not german.language_warning


@pytest.mark.slow
def test_report_json_names_each_documents_language(twin_folders, copy_index, tmp_path):
    """The command line's report of the French twin, from a copy of the index its scan above left."""
    root, index, _ = twin_folders["fr"]
    copy_index(index, tmp_path / "i.sqlite")
    done = subprocess.run(
        [sys.executable, "-m", "gapscan.scanner", "scan", str(root), "--out", str(tmp_path / "out"), "--index",
         str(tmp_path / "i.sqlite"), "--format", "json"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    documents = {d["path"]: d for d in report["documents"]}
    policy = documents["01-politique/politique-qualite.html"]
    assert (policy["language"], policy["assessed"]) == ("fr", True)
    assert all(f["not_assessed"] == {} for f in report["frameworks"])
    assert all(d["language"] in ("fr", "und") for d in report["documents"])
