"""Each document's language, and documents the catalogs cannot read: not assessed, and said so."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from conftest import CORPUS
from fixtures.documents import DocSpec, Part, write_document
from fixtures.languages import DUTCH, ENGLISH, FRENCH, GERMAN, ITALIAN, PORTUGUESE, SPANISH
from gapscan.reports.html import render_html
from gapscan.reports.markdown import render_markdown
from gapscan.reports.xlsx import render_xlsx
from gapscan.scanner.config import Config
from gapscan.scanner.common.documents import Document, Extract, Section, format_of
from gapscan.scanner.extract import Limits, extract_file
from gapscan.scanner.extract import language
from gapscan.scanner.extract.language import detect_language, identify
from gapscan.scanner.pipeline import scan


def extracted(path: Path) -> Extract:
    stat = path.stat()
    result = extract_file(path, Document(path.name, format_of(path.name), stat.st_size, stat.st_mtime), Limits())
    assert isinstance(result, Extract), result
    return result


@pytest.mark.parametrize("suffix", [".md", ".docx", ".pdf", ".odt", ".html"])
@pytest.mark.parametrize(("spec", "language"), [(SPANISH, "es"), (GERMAN, "de"), (FRENCH, "fr"), (PORTUGUESE, "pt"),
                                               (ITALIAN, "it"), (DUTCH, "nl"), (ENGLISH, "en")])
def test_language_is_detected_in_every_format(tmp_path, suffix, spec, language):
    assert extracted(write_document(tmp_path / f"doc{suffix}", spec)).language == language


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3\n4,5,6\n7,8,9\n10,11,12",
        "Name: ________ Date: ________ Signature: ________",
        "QA-001 rev. 2",
        "ID | Qty | Price\n12 | 4 | 3.50\n13 | 1 | 9.99",
    ],
)
def test_too_little_language_is_undetermined(text):
    assert detect_language(text) == "und"


def test_a_short_english_form_is_english_or_undetermined_never_foreign():
    form = ("Training attendance sheet. Course title, trainer, date, duration. Attendee name, role, "
            "signature. Trainer signature.")
    assert detect_language(form) in ("en", "und")


def test_the_language_of_most_of_the_text_decides():
    cover = "Quality Management System. Document owner: Quality Manager. Approved by the Board.\n"
    spanish_body = "\n".join(p for part in SPANISH.parts for p in part.paragraphs) * 3
    assert detect_language(cover + spanish_body) == "es"
    summary_es = "Resumen: este documento describe el proceso de auditoría interna.\n"
    english_body = "\n".join(p for part in ENGLISH.parts for p in part.paragraphs) * 3
    assert detect_language(summary_es + english_body) == "en"


# What every output says the catalogs read.
READ = "English, French, German, Portuguese and Spanish"


@pytest.fixture
def mixed_tree(tmp_path):
    root = tmp_path / "qms"
    write_document(root / "it/procedura-audit.md", ITALIAN)
    write_document(root / "it/procedura-audit.docx", ITALIAN)
    write_document(root / "nl/documentbeheer.pdf", DUTCH)
    write_document(root / "es/procedimiento-auditoria.md", SPANISH)
    write_document(root / "en/internal-audit-procedure.md", ENGLISH)
    write_document(root / "numbers.csv", DocSpec("", (Part("", ("1,2,3", "4,5,6")),)))
    return root


def scan_tree(root: Path, tmp_path: Path, **config):
    return scan(root, Config(**config), index_path=tmp_path / "index.sqlite", jobs=1, today=date(2026, 11, 25))


def test_documents_the_catalogs_cannot_read_are_not_assessed_and_give_no_evidence(mixed_tree, tmp_path):
    result = scan_tree(mixed_tree, tmp_path)
    documents = {d.path: d for d in result.report.documents}
    italian = documents["it/procedura-audit.md"]
    assert (italian.status, italian.language, italian.assessed) == ("ok", "it", False)
    assert italian.reason == f"written in Italian (it); the catalogs read {READ}"
    assert italian.tags == ()
    assert documents["nl/documentbeheer.pdf"].language == "nl" and not documents["nl/documentbeheer.pdf"].assessed
    english = documents["en/internal-audit-procedure.md"]
    assert (english.language, english.assessed, english.reason) == ("en", True, None)
    spanish = documents["es/procedimiento-auditoria.md"]
    assert (spanish.language, spanish.assessed, spanish.reason) == ("es", True, None)
    numbers = documents["numbers.csv"]
    assert (numbers.language, numbers.assessed) == ("und", True)
    assert {e.path for e in result.evidence} <= {"en/internal-audit-procedure.md", "es/procedimiento-auditoria.md",
                                                 "numbers.csv"}
    for framework in result.report.frameworks:
        assert framework.not_assessed == (("it", 2), ("nl", 1))
        assert framework.not_assessed_note == "2 documents in Italian and 1 in Dutch were not assessed"
    assert result.report.language_warning.startswith(
        f"2 documents in Italian and 1 in Dutch were not assessed: the catalogs read {READ}")


def test_every_output_warns_at_the_top_and_beside_each_framework(mixed_tree, tmp_path):
    report = scan_tree(mixed_tree, tmp_path).report
    note = "2 documents in Italian and 1 in Dutch were not assessed"

    html = render_html(report)
    main = html[html.index('<main id="main">'):]
    assert main.index(report.language_warning) < main.index('class="overview"')
    assert html.count(note) >= 1 + 2 * len(report.frameworks)  # the warning, each overview card and section
    assert f"not assessed: written in Dutch (nl); the catalogs read {READ}" in html  # in the document list

    markdown = render_markdown(report)
    lines = markdown.splitlines()
    warning = next(i for i, line in enumerate(lines) if "Warning" in line)
    table = next(i for i, line in enumerate(lines) if line.startswith("| Framework"))
    assert warning < table and "Italian" in lines[warning]
    rows = lines[table + 2 : table + 2 + len(report.frameworks)]
    assert all(note in row.replace("\\", "") for row in rows), rows

    summary = load_workbook(io.BytesIO(render_xlsx(report)))["Summary"]
    facts = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert facts["Warning"] == report.language_warning


@pytest.mark.slow
def test_console_warns_before_the_coverage_lines(mixed_tree, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gapscan.scanner", "scan", str(mixed_tree), "--out", str(tmp_path / "out"),
         "--index", str(tmp_path / "cli.sqlite"), "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    warning = next(i for i, line in enumerate(lines) if f"were not assessed: the catalogs read {READ}" in line)
    coverage = [i for i, line in enumerate(lines) if ": coverage " in line]
    assert coverage and warning < min(coverage)
    for i in coverage:
        assert "2 documents in Italian and 1 in Dutch were not assessed" in lines[i]
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    documents = {d["path"]: d for d in report["documents"]}
    assert documents["it/procedura-audit.docx"]["language"] == "it"
    assert documents["it/procedura-audit.docx"]["assessed"] is False
    spanish = documents["es/procedimiento-auditoria.md"]
    assert (spanish["language"], spanish["assessed"]) == ("es", True)
    assert documents["en/internal-audit-procedure.md"]["assessed"] is True
    assert {f["id"]: f["not_assessed"] for f in report["frameworks"]}["iso9001-2015"] == {"it": 2, "nl": 1}


def test_the_language_is_kept_in_the_index(mixed_tree, tmp_path):
    first = scan_tree(mixed_tree, tmp_path)
    again = scan_tree(mixed_tree, tmp_path)
    assert again.stats.extracted == 0
    assert [(d.path, d.language, d.assessed) for d in again.report.documents] == [
        (d.path, d.language, d.assessed) for d in first.report.documents]


def test_a_catalog_that_reads_italian_assesses_italian_documents(mixed_tree, tmp_path):
    catalogs = tmp_path / "catalogs"
    catalogs.mkdir()
    (catalogs / "audit.catalog.toml").write_text(
        'id = "audit-it"\ntitle = "Audit"\nversion = "1"\nlicence = "ours"\nlanguages = ["it"]\n'
        '[[requirements]]\nid = "1"\ntitle = "Audit interno"\nkind = "requirement"\n'
        'intent = "Pianificare ed eseguire gli audit interni."\nevidence = "retain"\n'
        'typical_evidence = ["rapporto di audit"]\nkeywords = ["audit interno", "gruppo di audit", "rilievi"]\n',
        encoding="utf-8",
    )
    result = scan_tree(mixed_tree, tmp_path, frameworks=("iso9001-2015", "audit-it"), catalog_folders=(catalogs,))
    documents = {d.path: d for d in result.report.documents}
    assert documents["it/procedura-audit.md"].assessed  # one catalog reads it
    assert not documents["nl/documentbeheer.pdf"].assessed
    assert documents["nl/documentbeheer.pdf"].reason == (
        "written in Dutch (nl); the catalogs read English, French, German, Italian, Portuguese and Spanish")
    frameworks = {f.id: f for f in result.report.frameworks}
    assert frameworks["audit-it"].not_assessed == (("en", 1), ("es", 1), ("nl", 1))
    assert frameworks["iso9001-2015"].not_assessed == (("it", 2), ("nl", 1))
    assert {e.framework for e in result.evidence if e.path.startswith("it/")} == {"audit-it"}
    (verdict,) = frameworks["audit-it"].verdicts
    assert verdict.status != "missing"


def reference_identify(sections: tuple[Section, ...]) -> tuple[str, tuple[Section, ...]]:
    """What ``identify`` is meant to give, from py3langid's own ``classify``: the document's
    language from a sample of the text (all of it, or three 2,000-character slices joined by line
    breaks), and the sections' own languages where one of those slices is in another language."""

    def guess(text: str, least_words: int) -> str:
        if len(re.findall(r"[^\W\d_]{2,}", text)) < least_words:
            return "und"
        code, confidence = IDENTIFIER.classify(text)
        return {"zxx": "und"}.get(code, code) if confidence >= 0.5 else "und"

    text = "\n".join(section.text for section in sections)
    size = min(2000, len(text) // 3 or len(text))
    step = (len(text) - size) / 2
    slices = [text[int(i * step) : int(i * step) + size] for i in range(3)]
    language = guess(text if len(text) <= 6000 else "\n".join(slices), 5)
    if len(sections) < 2 or all(guess(piece, 30) in (language, "und") for piece in slices):
        return language, sections
    marked = []
    for section in sections:
        own = guess(section.text[:2000], 30)
        marked.append(replace(section, language=own) if own not in (language, "und") else section)
    return language, tuple(marked)


IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def spec_sections(spec: DocSpec, repeat: int = 1) -> tuple[Section, ...]:
    return tuple(Section(part.heading, "\n".join(part.paragraphs * repeat)) for part in spec.parts)


SPECS = (SPANISH, GERMAN, FRENCH, PORTUGUESE, ITALIAN, DUTCH, ENGLISH)
SPANISH_WITH_ENGLISH_APPENDIX = spec_sections(SPANISH, 8) + spec_sections(ENGLISH, 8)


CASES = (
    *(spec_sections(spec, repeat) for spec in SPECS for repeat in (1, 4, 20)),
    SPANISH_WITH_ENGLISH_APPENDIX,
    spec_sections(ENGLISH, 20) + spec_sections(SPANISH, 20) + spec_sections(ENGLISH, 20),
    # a slice in capitals is lowered when read alone but not inside the sample: read alone
    (Section("a", spec_sections(ENGLISH, 20)[0].text.upper()),) + spec_sections(SPANISH, 20),
    spec_sections(SPANISH, 20)[:1] + tuple(Section(s.locator, s.text.upper()) for s in spec_sections(ENGLISH, 20)),
    # a slice that starts with a combining accent, composed with the letter before it in the sample
    (Section("a", "caf" + "e" * 2500), Section("b", "\u0301" + spec_sections(SPANISH, 20)[1].text)),
    (Section("a", "a"), Section("b", "b")),
    (Section("a", ""), Section("b", "")),
    (Section("a", "ab"),),
    (Section("a", "QUALITY AUDIT " * 700), Section("b", "x y")),
)


@pytest.mark.parametrize("sections", CASES)
def test_identify_gives_what_py3langid_gives_on_the_sample_and_its_slices(sections):
    assert identify(sections) == reference_identify(sections)


def test_identify_marks_the_appendix_in_another_language():
    language, sections = identify(SPANISH_WITH_ENGLISH_APPENDIX)
    assert language == "es"
    assert {section.language for section in sections} == {"", "en"}


@pytest.mark.corpus
def test_identify_gives_what_py3langid_gives_on_the_shared_corpus():
    documents = [path for path in sorted(CORPUS.rglob("*")) if path.suffix in (".md", ".docx", ".txt")]
    assert len(documents) > 400
    for path in documents:
        sections = tuple(replace(section, language="") for section in extracted(path).sections)
        assert identify(sections) == reference_identify(sections), path


@pytest.mark.parametrize("sections", CASES)
def test_one_walk_reads_the_sample_and_each_slice_as_py3langid_reads_them(sections):
    """The features of each slice, taken from the sample's walk, are those a walk of the slice alone
    finds, in the same order (the order a sum is taken in), and the probabilities are py3langid's,
    bit for bit."""
    sample, spans = language._sample("\n".join(section.text for section in sections))
    walk = language._SampleWalk(sample, spans)
    pieces = [(sample, walk.features, walk.size)]
    pieces += [(sample[start:end], *walk.slice(i)) for i, (start, end) in enumerate(spans)]
    for text, features, size in pieces:
        data = IDENTIFIER._encode(text)
        found = visit_counts(IDENTIFIER.tk_nextmove, IDENTIFIER._rowbase, IDENTIFIER.tk_output, data)
        assert list(Counter(features).items()) == list((found or {}).items())
        assert size == len(data)
        if features:
            assert language._probabilities(features, size).tobytes() == IDENTIFIER._decide(text).tobytes()


def test_the_models_weights_are_widened_as_numpy_widens_them():
    """Every normal float16 number, of either sign, becomes the float32 ``astype`` makes of it."""
    import numpy as np

    patterns = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    exponents = patterns & 0x7C00
    normal = patterns[(exponents != 0) & (exponents != 0x7C00)].view(np.float16)
    widened = language._normal_halves_as_singles(normal.reshape(-1, 2))
    assert widened.dtype == np.float32
    assert widened.ravel().tobytes() == normal.astype(np.float32).tobytes()
    assert language._model().normal_halves  # the shipped model takes the quick way


@pytest.mark.parametrize("words", range(3, 8))
def test_a_few_words_are_judged_as_the_reference_judges_them(words):
    text = " ".join(SPANISH.parts[0].paragraphs[0].split()[:words])
    assert identify((Section("", text),)) == reference_identify((Section("", text),))


def test_words_are_counted_in_a_slice_of_the_text_up_to_the_number_asked():
    text = "x1 " + " ".join(["palabra"] * 31) + " 22"
    start, end = 3, text.index("palabra") + 30 * len("palabra ")  # thirty words, the last cut short
    assert language._has_words(text, 30, start, end)
    assert not language._has_words(text, 30, start, end - len("palabra "))
    assert not language._has_words(text, 33)
    assert language._has_words(text, 31)
