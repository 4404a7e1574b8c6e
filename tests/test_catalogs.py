import json
import re
import shutil
from pathlib import Path

import pytest

from gapscan.classifiers.analysis import terms
from gapscan.mappings import CatalogError, bundled_catalogs, bundled_crosswalks, load_catalog, load_catalogs
from gapscan.scanner.config import Config
from gapscan.scanner.pipeline import scan

CATALOGS = Path(__file__).resolve().parents[1] / "mappings" / "catalogs"


def test_iso_catalog_has_every_audit_level_clause():
    iso = bundled_catalogs()["iso9001-2015"]
    ids = [r.id for r in iso.in_scope()]
    assert len(ids) == 56
    assert ids[0] == "4.1" and ids[-1] == "10.3"
    for expected in ("4.3", "5.2.2", "7.1.5", "7.5.3", "8.3.4", "8.5.6", "9.2", "9.3.3", "10.2"):
        assert expected in ids
    assert all(isinstance(i, str) for i in ids)


def test_iso_maintain_and_retain_flags_follow_the_mandatory_list():
    iso = bundled_catalogs()["iso9001-2015"]
    assert iso.get("4.3").evidence == "maintain"
    assert iso.get("6.2").evidence == "maintain"
    assert iso.get("8.1").evidence == "both"
    for retained in ("7.2", "9.2", "9.3.3", "10.2", "8.7", "8.6"):
        assert iso.get(retained).needs_records, retained
    assert iso.get("7.4").evidence == "none"


def test_every_requirement_carries_classifier_material():
    for catalog in bundled_catalogs().values():
        for requirement in catalog.in_scope(max(catalog.levels) if catalog.levels else None):
            assert requirement.intent and requirement.keywords and requirement.typical_evidence, requirement.id


def test_every_keyword_gives_the_classifier_a_term():
    """A keyword made only of stop words (shall, version, template, approved…) silently does nothing."""
    dead = [(c.id, r.id, k) for c in bundled_catalogs().values() for r in c.requirements for k in r.keywords
            if not terms(k)]
    assert dead == []


def test_cmmi_catalog_levels_select_the_benchmark():
    cmmi = bundled_catalogs()["cmmi-v2-dev"]
    areas = [r for r in cmmi.requirements if r.kind == "group"]
    assert len(areas) == 20
    assert len(cmmi.in_scope(2)) == 62
    assert len(cmmi.in_scope(3)) == 181
    assert {r.parent for r in cmmi.in_scope(2)} == {"CM", "EST", "GOV", "II", "MC", "MPM", "PLAN", "PQA", "RDM", "SAM"}
    assert all(re.fullmatch(r"[A-Z]+ [1-3]\.\d+", r.id) for r in cmmi.in_scope(3))


def test_crosswalk_links_existing_requirements_both_ways():
    (crosswalk,) = bundled_crosswalks()
    related_to_audit = {target for _, target, _ in crosswalk.related("iso9001-2015", "9.2")}
    assert any(t.startswith("PQA") for t in related_to_audit)
    related = crosswalk.related("cmmi-v2-dev", "PQA 2.1")
    assert any(other == "iso9001-2015" and req == "9.2" for other, req, _ in related)


def test_descriptions_are_short_paraphrases():
    for catalog in bundled_catalogs().values():
        for requirement in catalog.requirements:
            assert len(requirement.intent.split()) <= 40, requirement.id


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    source = (CATALOGS / "iso9001-2015.catalog.toml").read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "iso9001-2015.catalog.toml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    return path


def test_schema_error_names_file_requirement_and_field(tmp_path):
    path = broken_copy(tmp_path, 'id = "9.2"\ntitle = "Internal audit"\nkind = "requirement"',
                       'id = "9.2"\ntitle = "Internal audit"\nkind = "requirement"\nevidence_type = "x"')
    with pytest.raises(CatalogError, match=r"requirement '9.2'") as error:
        load_catalog(path)
    assert str(path) in str(error.value)


def test_wrong_value_names_the_field(tmp_path):
    text = (CATALOGS / "iso9001-2015.catalog.toml").read_text(encoding="utf-8")
    match = re.search(r'id = "7\.2"[^\[]*?evidence = "retain"', text)
    assert match
    path = tmp_path / "c.catalog.toml"
    changed = match.group(0).replace('evidence = "retain"', 'evidence = "keep"')
    path.write_text(text[: match.start()] + changed + text[match.end():], encoding="utf-8")
    with pytest.raises(CatalogError, match=r"requirement '7.2': field 'evidence'"):
        load_catalog(path)


def test_records_of_names_activities_gapscan_recognises(tmp_path):
    assert bundled_catalogs()["iso9001-2015"].get("7.2").records_of == ("training",)
    path = broken_copy(tmp_path, 'records_of = ["training"]', 'records_of = ["lunch"]')
    with pytest.raises(CatalogError, match=r"requirement '7.2': field 'records_of.0': 'lunch' is not one of"):
        load_catalog(path)


def test_numeric_clause_id_is_rejected(tmp_path):
    path = broken_copy(tmp_path, 'id = "9.2"', "id = 9.2")
    with pytest.raises(CatalogError, match=r"field 'id'"):
        load_catalog(path)


def test_unknown_parent_is_rejected(tmp_path):
    text = (CATALOGS / "iso9001-2015.catalog.toml").read_text(encoding="utf-8")
    path = tmp_path / "c.catalog.toml"
    path.write_text(text.replace('parent = "10"', 'parent = "11"', 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"field 'parent': '11' is not a requirement"):
        load_catalog(path)


def test_user_catalog_folder_adds_a_framework(tmp_path):
    (tmp_path / "as9100.catalog.toml").write_text(
        'id = "as9100d"\ntitle = "AS9100D additions"\nversion = "D"\nlicence = "our paraphrases"\n'
        '[[requirements]]\nid = "8.1.1"\ntitle = "Operational risk management"\nkind = "requirement"\n'
        'intent = "Plan and control operational risks."\nevidence = "retain"\n'
        'typical_evidence = ["operational risk register"]\nkeywords = ["operational risk"]\n',
        encoding="utf-8",
    )
    catalogs = load_catalogs((tmp_path,))
    assert "as9100d" in catalogs and "iso9001-2015" in catalogs
    qms = tmp_path / "qms"
    qms.mkdir()
    (qms / "ops-risk.md").write_text("The operational risk register lists each risk, its owner and controls.\n" * 3,
                                     encoding="utf-8")
    config = Config(frameworks=("as9100d",), catalog_folders=(tmp_path,))
    report = scan(qms, config, index_path=tmp_path / "i.sqlite", jobs=1).report
    assert [f.id for f in report.frameworks] == ["as9100d"] and len(report.frameworks[0].verdicts) == 1


def user_catalog(folder: Path, keywords: list[str]) -> Path:
    entries = "".join(
        f'[[requirements]]\nid = "{n}"\ntitle = "{keywords[0]}"\nkind = "requirement"\nintent = "{keywords[0]}"\n'
        f'evidence = "retain"\ntypical_evidence = ["{keywords[0]}"]\nkeywords = {json.dumps(keywords)}\n'
        for n in ("1", "2", "3")
    )
    (folder / "mine.catalog.toml").write_text(
        f'id = "mine"\ntitle = "Ours"\nversion = "1"\nlicence = "ours"\n{entries}', encoding="utf-8")
    qms = folder / "qms"
    qms.mkdir(exist_ok=True)
    (qms / "plan.md").write_text("The audit plan lists each audit with its scope and auditor.\n" * 3, encoding="utf-8")
    return qms


def test_a_catalog_whose_requirements_share_every_word_still_scans(tmp_path):
    qms = user_catalog(tmp_path, ["audit plan"])
    config = Config(frameworks=("mine",), catalog_folders=(tmp_path,))
    report = scan(qms, config, index_path=tmp_path / "i.sqlite", jobs=1).report
    assert len(report.frameworks[0].verdicts) == 3


def test_a_catalog_with_no_usable_words_is_a_catalog_error(tmp_path):
    qms = user_catalog(tmp_path, ["the", "and"])
    with pytest.raises(CatalogError, match="no words the classifier can use"):
        scan(qms, Config(frameworks=("mine",), catalog_folders=(tmp_path,)), index_path=tmp_path / "i.sqlite", jobs=1)


def test_duplicate_catalog_id_is_an_error(tmp_path):
    shutil.copy(CATALOGS / "iso9001-2015.catalog.toml", tmp_path / "copy.catalog.toml")
    with pytest.raises(CatalogError, match="already defined"):
        load_catalogs((tmp_path,))


def test_the_list_of_validated_bundled_files_is_current():
    """Every bundled file validates, and mappings/validated.json lists exactly their digests (a
    listed file is not validated again at load). After changing a bundled file, write
    ``gapscan.mappings.catalog.bundled_digests()`` to it as JSON."""
    from importlib import resources

    from gapscan.mappings.catalog import VALIDATED, bundled_digests

    shipped = json.loads(resources.files("gapscan.mappings").joinpath(VALIDATED).read_text(encoding="utf-8"))
    assert shipped == bundled_digests()


def test_a_copy_of_a_bundled_catalog_elsewhere_is_validated(tmp_path):
    """Only the bundled folder's files are taken as validated: the same name and bytes elsewhere,
    once changed, are checked against the schema."""
    from importlib import resources

    bundled = Path(str(resources.files("gapscan.mappings").joinpath("catalogs", "iso9001-2015.catalog.toml")))
    copy = tmp_path / bundled.name
    copy.write_text(bundled.read_text(encoding="utf-8").replace('kind = "requirement"', 'kind = "nonsense"', 1),
                    encoding="utf-8")
    with pytest.raises(CatalogError, match="kind"):
        load_catalog(copy)
