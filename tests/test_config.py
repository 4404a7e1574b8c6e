import re
from pathlib import Path

import pytest

from gapscan.scanner.config import ConfigError, find_config, load_config, parse_age


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_config_gives_defaults(tmp_path):
    config = load_config(tmp_path)
    assert config.source is None and config.frameworks == () and config.fail_under is None


def test_closest_gapscan_toml_above_the_root_wins(tmp_path):
    write(tmp_path / "gapscan.toml", 'frameworks = ["cmmi-v2-dev"]\n')
    write(tmp_path / "qms" / "gapscan.toml", 'frameworks = ["iso9001-2015"]\n')
    (tmp_path / "qms" / "deep").mkdir()
    assert load_config(tmp_path / "qms" / "deep").frameworks == ("iso9001-2015",)
    assert find_config(tmp_path) == tmp_path / "gapscan.toml"


def test_pyproject_tool_table(tmp_path):
    write(tmp_path / "pyproject.toml",
          '[project]\nname = "x"\n\n[tool.gapscan]\nexclude = ["drafts/"]\n[tool.gapscan.cmmi]\nlevel = 2\n')
    config = load_config(tmp_path)
    assert config.exclude == ("drafts/",) and config.cmmi_level == 2


def test_pyproject_without_tool_table_is_not_a_config(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config(tmp_path) is None


def test_every_documented_key(tmp_path):
    write(tmp_path / "gapscan.toml", """
include = ["qms/"]
exclude = ["*.tmp"]
frameworks = ["iso9001-2015"]
catalogs = ["my-catalogs"]
labels = "labels.tsv"
fail_under = 75
[cmmi]
level = 3
[not_applicable.iso9001-2015]
"8.3" = "We build to customer designs and do no design work."
7.1.5 = "We own no measuring equipment."
[max_age.iso9001-2015]
"9.2" = "18 months"
"9.3" = 400
[limits]
timeout_seconds = 5
""")
    config = load_config(tmp_path)
    assert config.include == ("qms/",)
    assert config.not_applicable["iso9001-2015"] == {
        "8.3": "We build to customer designs and do no design work.",
        "7.1.5": "We own no measuring equipment.",
    }
    assert config.max_age_days["iso9001-2015"] == {"9.2": 540, "9.3": 400}
    assert config.catalog_folders == (tmp_path / "my-catalogs",)
    assert config.labels == tmp_path / "labels.tsv"
    assert config.fail_under == 75.0 and config.cmmi_level == 3
    assert config.limits.timeout_seconds == 5


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = 1\n", "unknown key(s): colour"),
        ("[cmmi]\nlevel = 4\n", "cmmi.level must be 2 or 3"),
        ('[not_applicable.iso9001-2015]\n"8.3" = ""\n',
         "not_applicable.iso9001-2015.8.3: needs a written justification"),
        ('[max_age.iso9001-2015]\n"9.2" = "soon"\n', "max_age.iso9001-2015.9.2"),
        ("[limits]\nmax_spoons = 3\n", "unknown limit(s): max_spoons"),
        ("include = [", "not valid TOML"),
    ],
)
def test_bad_config_names_the_file_and_the_key(tmp_path, text, message):
    path = write(tmp_path / "gapscan.toml", text)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_flags_override_the_file(tmp_path):
    write(tmp_path / "gapscan.toml", "fail_under = 50\n")
    config = load_config(tmp_path).with_overrides(fail_under=80.0, frameworks=None)
    assert config.fail_under == 80.0


@pytest.mark.parametrize("value, days", [(30, 30), ("400d", 400), ("2 weeks", 14), ("18 months", 540), ("1y", 365)])
def test_ages(value, days):
    assert parse_age(value) == days


@pytest.mark.parametrize(
    "text, message",
    [
        ('all_files = "false"\n', "all_files must be true or false"),
        ("labels = 5\n", "labels must be the path"),
        ("[cmmi]\nlevle = 2\n", "unknown key(s) in [cmmi]: levle"),
        ("fail_under = 250\n", "percentage from 0 to 100"),
    ],
)
def test_values_of_the_wrong_kind_are_errors(tmp_path, text, message):
    write(tmp_path / "gapscan.toml", text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path)


@pytest.mark.parametrize("text", ['tool = "gapscanner"\n', "[tool]\ngapscan = 1\n"])
def test_pyproject_whose_tool_entries_are_not_tables(tmp_path, text):
    write(tmp_path / "pyproject.toml", text)
    try:
        config = load_config(tmp_path)
    except ConfigError as error:
        assert "[tool.gapscan] must be a table" in str(error)
    else:
        assert config.source is None
