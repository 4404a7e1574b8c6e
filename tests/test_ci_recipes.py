"""The CI recipes in docs/ci/ and the pre-commit hook: their commands run here, in a git repository
of quality documents, as the CI systems would run them (all but the install step and the actions
that GitHub and GitLab provide, such as checkout, cache and upload)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import xmlschema
import yaml
from report_samples import AUDIT, POLICY

ROOT = Path(__file__).resolve().parents[1]
JUNIT_XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=QA", "-c", "user.email=qa@example.com",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A repository as CI checks it out: quality documents in qms/, one commit."""
    base = tmp_path_factory.mktemp("ci")
    repo = base / "repo"
    (repo / "qms").mkdir(parents=True)
    (repo / "qms" / "quality-policy.md").write_text(POLICY, encoding="utf-8")
    (repo / "qms" / "internal-audit-IA-2026-02.md").write_text(AUDIT, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Quality system")
    stub = base / "bin"
    stub.mkdir()
    curl = stub / "curl"  # GitLab's API is not reachable here: hand out the saved baseline instead
    curl.write_text(
        '#!/usr/bin/env bash\necho "$@" >> "$CURL_LOG"\nwhile [ $# -gt 0 ]; do\n'
        '  if [ "$1" = "--output" ]; then out="$2"; shift; fi; shift\ndone\n'
        '[ -n "${BASELINE_SOURCE:-}" ] || exit 22\ncp "$BASELINE_SOURCE" "$out"\n',
        encoding="utf-8",
    )
    curl.chmod(curl.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ)
    for key in [k for k in env if k.startswith(("GITHUB_", "CI_", "GAPSCAN"))] + ["CI"]:
        env.pop(key, None)
    env.update(
        PATH=os.pathsep.join([str(stub), str(Path(sys.executable).parent), env.get("PATH", "")]),
        XDG_CACHE_HOME=str(base / "cache"),  # one index for every run, outside the repository
        CURL_LOG=str(base / "curl.log"),
    )
    return repo, env, base


def bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    # GitHub runs `bash --noprofile --norc -eo pipefail {0}`; GitLab stops at the first failing line.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_recipes_and_hook_are_valid_yaml_with_what_they_promise():
    github = yaml.safe_load((ROOT / "docs/ci/github-actions.yml").read_text(encoding="utf-8"))
    steps = github["jobs"]["gapscan"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    assert restore["with"]["restore-keys"] == "gapscan-baseline-"
    assert save["with"]["key"].startswith("gapscan-baseline-")
    assert restore["with"]["path"] == save["with"]["path"] == github["env"]["BASELINE_DIR"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"].rstrip("/") == github["env"]["REPORT_DIR"]
    scan = next(s for s in steps if s.get("id") == "scan")
    assert "GITHUB_STEP_SUMMARY" in scan["run"] and "--fail-on new-gaps" in scan["run"]

    gitlab = yaml.safe_load((ROOT / "docs/ci/gitlab-ci.yml").read_text(encoding="utf-8"))["gapscan"]
    assert gitlab["variables"]["GIT_DEPTH"] == "0"
    assert gitlab["artifacts"]["when"] == "always"
    assert gitlab["artifacts"]["reports"]["junit"] == f"{gitlab['variables']['REPORT_DIR']}/report.junit.xml"
    assert f"{gitlab['variables']['REPORT_DIR']}/" in gitlab["artifacts"]["paths"]

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "gapscan" and hook["language"] == "python" and hook["pass_filenames"] is False
    assert hook["entry"] == "gapscan scan"
    files = re.compile(hook["files"])
    assert files.search("qms/procedures/PR-02 internal audit.docx") and files.search("notes.md")
    assert not files.search("logo.png")


@pytest.mark.slow
def test_github_actions_recipe_gates_a_pull_request_on_new_gaps(workspace):
    repo, env, base = workspace
    workflow = yaml.safe_load((ROOT / "docs/ci/github-actions.yml").read_text(encoding="utf-8"))
    steps = {s.get("id"): s for s in workflow["jobs"]["gapscan"]["steps"] if s.get("id")}
    env = dict(env, **workflow["env"], GITHUB_STEP_SUMMARY=str(base / "summary-main.md"),
               GITHUB_SERVER_URL="https://github.com", GITHUB_REPOSITORY="acme/quality", GITHUB_SHA="0a1b2c")

    # A push to main: no baseline yet, so no gate; the summary and the report are written.
    main = bash(steps["scan"]["run"], repo, env)
    assert main.returncode == 0, main.stderr
    report = repo / workflow["env"]["REPORT_DIR"]
    assert {p.name for p in report.iterdir()} >= {"report.html", "report.json", "report.md", "report.sarif"}
    assert (base / "summary-main.md").read_text(encoding="utf-8").startswith("## gapscan: evidence gaps")
    sarif = json.loads((report / "report.sarif").read_text(encoding="utf-8"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert "qms/" in uris  # missing requirements point at the scanned folder, relative to the repository
    # the published report links the documents at this commit, and the SARIF base is the repository's
    html = (report / "report.html").read_text(encoding="utf-8")
    assert 'href="https://github.com/acme/quality/blob/0a1b2c/qms/quality-policy.md"' in html
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "https://github.com/acme/quality/blob/0a1b2c/"
    keep = bash(steps["keep"]["run"], repo, env)
    assert keep.returncode == 0, keep.stderr
    saved = repo / workflow["env"]["BASELINE_DIR"] / "report.json"
    assert json.loads(saved.read_text(encoding="utf-8"))["schema"] == "gapscan.report/2"
    (base / "main-report.json").write_bytes(saved.read_bytes())

    # A pull request that deletes the quality policy: new gaps against main's report, exit code 1.
    git(repo, "rm", "-q", "qms/quality-policy.md")
    git(repo, "commit", "-q", "-m", "Remove the policy")
    env["GITHUB_STEP_SUMMARY"] = str(base / "summary-pr.md")
    pr = bash(steps["scan"]["run"], repo, env)
    assert pr.returncode == 1, pr.stdout + pr.stderr
    assert "new gap(s) since the baseline" in pr.stderr
    summary = (base / "summary-pr.md").read_text(encoding="utf-8")
    assert "Gate `--fail-on new-gaps` failed" in summary and "`quality-policy.md`" in summary


@pytest.mark.slow
def test_gitlab_recipe_publishes_junit_and_fails_a_merge_request_on_new_gaps(workspace):
    repo, env, base = workspace
    if not (base / "main-report.json").exists():
        pytest.skip("needs the GitHub recipe's report of main")
    job = yaml.safe_load((ROOT / "docs/ci/gitlab-ci.yml").read_text(encoding="utf-8"))["gapscan"]
    env = dict(env, **job["variables"], CI="true", CI_MERGE_REQUEST_IID="7", CI_JOB_TOKEN="token",
               CI_API_V4_URL="https://gitlab.invalid/api/v4", CI_PROJECT_ID="42", CI_DEFAULT_BRANCH="main",
               CI_JOB_NAME="gapscan", BASELINE_SOURCE=str(base / "main-report.json"),
               CI_PROJECT_URL="https://gitlab.invalid/acme/quality", CI_COMMIT_SHA="0a1b2c")
    result = bash("\n".join(job["script"]), repo, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "new gap(s) since the baseline" in result.stderr
    calls = (base / "curl.log").read_text(encoding="utf-8")
    artifact = "https://gitlab.invalid/api/v4/projects/42/jobs/artifacts/main/raw/gapscan-report/report.json"
    assert f"{artifact}?job=gapscan" in calls
    assert "JOB-TOKEN: token" in calls
    junit = repo / job["artifacts"]["reports"]["junit"]
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(junit))
    assert "5.2.1 " in junit.read_text(encoding="utf-8")
    for path in job["artifacts"]["paths"]:
        assert (repo / path / "report.html").is_file()
        html = (repo / path / "report.html").read_text(encoding="utf-8")
        assert 'href="https://gitlab.invalid/acme/quality/-/blob/0a1b2c/qms/internal-audit-IA-2026-02.md"' in html


def test_pre_commit_hook_runs_its_command(workspace):
    repo, env, _ = workspace
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    command = hook["entry"].split() + [str(a) for a in hook["args"]]
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""  # --quiet: a hook prints only what fails
    out = repo / command[command.index("--out") + 1]
    assert (out / "report.md").read_text(encoding="utf-8").startswith("## gapscan")
    assert not list(out.glob("report.html"))
