"""Git as gapscan asks it (``scanner.common.git``): a checkout owned by another user than the one
running gapscan (a CI runner, a service account) is still read as a repository."""

import json
import os
import subprocess
import sys

import pytest

from gapscan.scanner.common.git import locate, run_git

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changing a repository's owner needs root")


@pytest.fixture
def foreign_repo(tmp_path, monkeypatch):
    """A repository with the documents in ``qms/``, owned by ``nobody``, and a git configuration
    that trusts no folder (no global or system ``safe.directory``)."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "repo"
    (repo / "qms").mkdir(parents=True)
    (repo / "qms" / "internal-audit-procedure.md").write_text(
        "# Internal audit procedure\n\nThe audit programme plans internal audits of the quality management "
        "system each year; auditors are independent, findings are reported to management and corrected.\n",
        encoding="utf-8")
    (repo / "qms" / "gapscan.toml").write_text('frameworks = ["iso9001-2015"]\n', encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["chown", "-R", "nobody", str(repo)], check=True)
    # Without the override git refuses the repository, which is what this test is about.
    plain = subprocess.run(["git", "-C", str(repo / "qms"), "rev-parse", "--show-prefix"],
                           capture_output=True, check=False)
    assert plain.returncode != 0 and b"dubious ownership" in plain.stderr
    return repo


def test_git_answers_for_a_repository_owned_by_another_user(foreign_repo):
    assert run_git(foreign_repo / "qms", "rev-parse", "--show-prefix") == b"qms/\n"
    assert locate(foreign_repo / "qms", foreign_repo / "qms" / "gapscan.toml") == ("qms/", "qms/gapscan.toml")


def test_git_says_nothing_outside_a_repository(tmp_path):
    assert run_git(tmp_path, "rev-parse", "--show-prefix") is None
    assert locate(tmp_path, None) == ("", "")


def test_sarif_locations_hold_the_repository_path_when_another_user_owns_the_checkout(foreign_repo, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "gapscan.scanner", "scan", str(foreign_repo / "qms"), "--out", str(out),
         "--format", "sarif", "--index", str(tmp_path / "index.sqlite"), "--quiet"],
        capture_output=True, text=True, env=os.environ, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "report.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    uris = {location["physicalLocation"]["artifactLocation"]["uri"] for result in results
            for location in result["locations"]}
    # Missing requirements point at the configuration file, partial ones at a document: all of
    # them inside qms/, as GitHub needs to show them in the repository.
    assert uris and all(uri.startswith("qms/") for uri in uris), uris
    assert "qms/gapscan.toml" in uris

