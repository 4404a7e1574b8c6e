"""``gapscan`` as a user runs it, on the generated demo quality system: in this process through
click's test runner (same command group, same exit codes, stdout and stderr apart), and as a real
process where that is what is tested (the first scan, ``--help``, an exit code, a terminal)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from fixtures import demo_qms
from gapscan.scanner.cli import main

TIMEOUT_SECONDS = 300  # a hang (a FIFO opened, say) fails the test instead of stopping the suite


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def _timed_out(_signum, _frame):
    raise TimeoutError(f"gapscan did not finish within {TIMEOUT_SECONDS} s")


def gapscan(*args: str, cwd: Path) -> Done:
    """Run the command in this process, in ``cwd``. An exception that is not an exit is raised here:
    in a real process it would be a traceback."""
    previous_dir, previous_alarm = Path.cwd(), signal.signal(signal.SIGALRM, _timed_out)
    os.chdir(cwd)
    signal.alarm(TIMEOUT_SECONDS)
    try:
        result = CliRunner().invoke(main, list(args), prog_name="gapscan")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous_alarm)
        os.chdir(previous_dir)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


def gapscan_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m gapscan.scanner`` as a separate process."""
    return subprocess.run([sys.executable, "-m", "gapscan.scanner", *args], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def demo(demo_qms_folder):
    return demo_qms_folder


@pytest.fixture(scope="module")
def scanned(demo, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    before = sorted(str(p.relative_to(demo)) for p in demo.rglob("*"))
    done = gapscan_process("scan", str(demo), "--out", "out", "--index", "index.sqlite", "--jobs", "2", cwd=work)
    after = sorted(str(p.relative_to(demo)) for p in demo.rglob("*"))
    assert before == after, "the scan wrote inside the scanned tree"
    return done, json.loads((work / "out" / "report.json").read_text(encoding="utf-8")), work


def requirement(report, framework, rid):
    (found,) = [f for f in report["frameworks"] if f["id"] == framework]
    return {r["id"]: r for r in found["requirements"]}[rid]


def test_scan_exits_0_and_writes_html_and_json(scanned):
    done, report, work = scanned
    assert done.returncode == 0, done.stderr
    assert (work / "out" / "report.html").stat().st_size > 10_000
    assert "iso9001-2015: coverage" in done.stdout and "cmmi-v2-dev (level 3): coverage" in done.stdout


def test_json_follows_the_contract(scanned):
    _, report, _ = scanned
    assert list(report) == ["schema", "tool", "generated_at", "root", "summary", "frameworks", "actions", "gate",
                            "documents"]
    assert report["schema"] == "gapscan.report/2" and report["tool"]["name"] == "gapscan"
    assert report["gate"] is None  # no baseline, waivers or gate options
    assert [f["id"] for f in report["frameworks"]] == ["iso9001-2015", "cmmi-v2-dev"]
    gaps = {(f["id"], r["id"]) for f in report["frameworks"] for r in f["requirements"]
            if r["status"] in ("missing", "partial")}
    assert sorted((g["framework"], g["requirement"]) for a in report["actions"] for g in a["closes"]) == sorted(gaps)
    for number, action in enumerate(report["actions"], 1):
        assert list(action) == ["rank", "framework", "requirement", "title", "status", "needs", "step", "expected",
                                "start_from", "closes"]
        assert action["rank"] == number and action["step"] and action["expected"]
    for framework in report["frameworks"]:
        assert list(framework) == ["id", "title", "version", "coverage", "counts", "not_assessed", "requirements"]
        assert framework["not_assessed"] == {}  # the demo is written in English
        ids = [r["id"] for r in framework["requirements"]]
        assert ids == sorted(ids, key=lambda i: [int(p) if p.isdigit() else p for p in re.findall(r"\d+|[A-Z]+", i)])
        assert 0.0 <= framework["coverage"] <= 1.0
        assert sum(framework["counts"].values()) == len(framework["requirements"])
        for item in framework["requirements"]:
            assert list(item) == ["id", "title", "parent", "status", "reason", "evidence", "near_misses"]
            assert item["status"] in ("covered", "partial", "missing", "not_applicable")
            for evidence in item["evidence"]:
                assert list(evidence) == ["path", "score", "locator", "modified", "terms"]
                assert 0.0 <= evidence["score"] <= 1.0
    for document in report["documents"]:
        assert list(document) == ["path", "format", "bytes", "sha256", "modified", "status", "reason", "kind",
                              "language",
                                  "assessed", "tags"]
        assert document["language"] in (("en", "und") if document["status"] == "ok" else ("",))
        assert document["assessed"] is True
        assert "\\" not in document["path"] and not document["path"].startswith("/")
    assert [d["path"] for d in report["documents"]] == sorted(d["path"] for d in report["documents"])


def test_every_demo_document_is_listed_and_broken_ones_are_warnings(scanned):
    done, report, _ = scanned
    documents = {d["path"]: d for d in report["documents"]}
    assert report["summary"] == {"documents": 30, "readable": 28, "unreadable": 2,
                                 "not_read": {"unsupported": {}, "excluded": {}, "too_large": {}}}
    assert set(demo_qms.IGNORED).isdisjoint(documents)
    (corrupt,) = demo_qms.UNREADABLE
    assert documents[corrupt]["status"] == "unreadable" and documents[corrupt]["tags"] == []
    assert "corrupt" in documents[corrupt]["reason"]
    (legacy,) = demo_qms.SKIPPED
    assert documents[legacy]["status"] == "skipped" and "legacy" in documents[legacy]["reason"]
    assert f"warning: {corrupt}" in done.stdout
    assert {d["format"] for d in documents.values()} >= {
        "docx", "xlsx", "pdf", "pptx", "odt", "ods", "odp", "md", "txt", "csv", "html"}


def test_deliberate_gaps_are_reported(scanned):
    _, report, _ = scanned
    for clause in demo_qms.DELIBERATE_GAPS["iso9001-2015"]:
        assert requirement(report, "iso9001-2015", clause)["status"] == "missing", clause
    cmmi = next(f for f in report["frameworks"] if f["id"] == "cmmi-v2-dev")
    for area in demo_qms.DELIBERATE_GAPS["cmmi-v2-dev"]:
        statuses = {r["status"] for r in cmmi["requirements"] if r["parent"] == area}
        assert statuses == {"missing"}, area


def test_the_action_plan_names_what_to_produce_and_where_to_start(scanned, demo):
    _, report, _ = scanned
    actions = {(a["framework"], a["requirement"]): a for a in report["actions"]}
    for path, clause in demo_qms.PROCEDURE_ONLY.items():  # 8.7: the procedure exists, the records do not
        action = actions[("iso9001-2015", clause)]
        assert action["step"].startswith("Keep the records"), action["step"]
        assert action["start_from"]["path"] == path
    first = report["actions"][0]
    assert {g["framework"] for g in first["closes"]} == {"iso9001-2015", "cmmi-v2-dev"}
    html = (scanned[2] / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="actions"' in html and 'id="map-cmmi-v2-dev"' in html


def test_matched_terms_are_words_of_the_document(scanned, demo):
    from gapscan.scanner.config import Config
    from gapscan.scanner.common.documents import Document, Extract, format_of
    from gapscan.scanner.extract import extract_file

    _, report, _ = scanned
    terms: dict[str, set[str]] = {}
    for framework in report["frameworks"]:
        for item in framework["requirements"]:
            for evidence in item["evidence"]:
                terms.setdefault(evidence["path"], set()).update(evidence["terms"])
    assert len(terms) > 10
    for path, found in terms.items():
        source = demo / path
        extract = extract_file(source, Document(path, format_of(source.name), source.stat().st_size, 0.0, ""),
                               Config().limits)
        assert isinstance(extract, Extract)
        text = " ".join([extract.metadata.title, path, *(s.text for s in extract.sections)]).lower()
        text = re.sub(r"[^a-z]+", " ", text)
        for term in found - {"training record"}:
            for word in re.findall(r"[a-z]+", term.lower()):
                assert f" {word} " in f" {text} " or word == "non", (path, term)
    everything = {t for found in terms.values() for t in found}
    assert not everything & {"qualiti", "qualiti manag", "manag", "exclus", "polici"}


def test_stale_audit_records_and_procedure_only_are_partial(scanned):
    _, report, _ = scanned
    audit = requirement(report, "iso9001-2015", "9.2")
    assert audit["status"] == "partial", audit["reason"]
    for path, clause in demo_qms.PROCEDURE_ONLY.items():
        verdict = requirement(report, "iso9001-2015", clause)
        assert verdict["status"] == "partial" and "records" in verdict["reason"], verdict["reason"]
        assert path in [e["path"] for e in verdict["evidence"]]


def test_gaps_list_near_misses_and_evidence_explains_itself(scanned):
    _, report, _ = scanned
    iso = next(f for f in report["frameworks"] if f["id"] == "iso9001-2015")
    assert any(r["near_misses"] for r in iso["requirements"] if r["status"] == "missing")
    covered = [r for r in iso["requirements"] if r["status"] == "covered"]
    assert covered and all(r["evidence"] and r["evidence"][0]["terms"] for r in covered)


def test_rescan_reads_nothing_and_fail_under_gates(scanned, demo):
    _, report, work = scanned
    worst = min(f["coverage"] for f in report["frameworks"]) * 100
    passing = gapscan("scan", str(demo), "--out", "out2", "--index", "index.sqlite",
                      "--fail-under", f"{worst - 1:.0f}", cwd=work)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "(0 read, 30 from the index)" in passing.stdout
    failing = gapscan("scan", str(demo), "--out", "out2", "--index", "index.sqlite",
                      "--fail-under", f"{worst + 1:.0f}", cwd=work)
    assert failing.returncode == 1 and "below --fail-under" in failing.stderr


def test_strict_fails_on_unreadable_documents(scanned, demo):
    work = scanned[2]
    done = gapscan("scan", str(demo), "--out", "out3", "--index", "index.sqlite", "--strict", "--quiet", cwd=work)
    assert done.returncode == 1 and "unreadable (--strict)" in done.stderr
    assert done.stdout == ""


def test_framework_and_level_selection(scanned, demo):
    work = scanned[2]
    done = gapscan("scan", str(demo), "--out", "out4", "--index", "index.sqlite", "--framework", "cmmi-v2-dev",
                   "--cmmi-level", "2", "-q", cwd=work)
    assert done.returncode == 0, done.stderr
    report = json.loads((work / "out4" / "report.json").read_text(encoding="utf-8"))
    (cmmi,) = report["frameworks"]
    assert cmmi["id"] == "cmmi-v2-dev" and len(cmmi["requirements"]) == 62


@pytest.mark.parametrize(
    "args, message",
    [
        (("scan", "missing-folder"), "does not exist"),
        (("scan", ".", "--format", "pdf"), "choose from"),
        (("scan", ".", "--framework", "iso27001"), "unknown framework"),
        (("frameworks", "nope"), "unknown framework"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    done = gapscan(*args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr


def test_bad_config_exits_2_and_names_the_key(tmp_path):
    (tmp_path / "qms").mkdir()
    (tmp_path / "qms" / "gapscan.toml").write_text("[cmmi]\nlevel = 5\n", encoding="utf-8")
    done = gapscan_process("scan", "qms", "--index", "i.sqlite", cwd=tmp_path)  # a real process's exit code
    assert "cmmi.level must be 2 or 3" in one_error_line(done)


def test_help_lists_every_command_without_loading_the_pipeline(tmp_path):
    done = gapscan_process("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    commands = done.stdout.partition("\nCommands:\n")[2]
    assert re.findall(r"^  (\w+) ", commands, re.MULTILINE) == [
        "eval", "explain", "frameworks", "scan", "train", "watch"]
    # Building the command line imports no scikit-learn, numpy, renderer or pipeline stage.
    probe = ("import sys; import gapscan.scanner.cli; "
             "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('sklearn', 'numpy', 'scipy', 'jinja2', 'openpyxl', 'jsonschema', 'pebble', 'watchdog') "
             "or m.startswith(('gapscan.scanner.pipeline', 'gapscan.scanner.watch', 'gapscan.reports', "
             "'gapscan.classifiers', 'gapscan.mappings')))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.split() == []


def explained_tags(stdout: str) -> set[tuple[str, str, str]]:
    return {m.groups() for m in re.finditer(r"^  tag (\S+) (.+): (\d\.\d\d)", stdout, re.MULTILINE)}


def test_explain_with_root_matches_the_scan_for_top_level_and_linked_files(demo, tmp_path):
    qms, store = tmp_path / "qms", tmp_path / "store"
    (qms / "linked").mkdir(parents=True)
    store.mkdir()
    source = demo / "02-procedures" / "PR-03-corrective-action.docx"
    shutil.copy(source, qms / "corrective-action.docx")
    shutil.copy(source, store / "doc-123.docx")
    os.symlink(store / "doc-123.docx", qms / "linked" / "training-record.docx")
    # The link leads outside the scanned folder: followed only when asked to.
    done = gapscan("scan", "qms", "--out", "out", "--index", "i.sqlite", "--follow-symlinks-outside", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    documents = {d["path"]: d for d in report["documents"]}
    for path in ("corrective-action.docx", "linked/training-record.docx"):
        reported = {(t["framework"], t["requirement"], f"{t['score']:.2f}") for t in documents[path]["tags"]}
        explained = gapscan("explain", str(qms / path), "--root", "qms", "--follow-symlinks-outside", cwd=tmp_path)
        assert explained.returncode == 0, explained.stderr
        assert reported and explained_tags(explained.stdout) == reported, path
        assert explained.stdout.startswith(f"{path} (in {qms})")
    # Named as a training record by its link, the same text is competence evidence.
    assert {t["requirement"] for t in documents["linked/training-record.docx"]["tags"]} == {"7.2", "OT 2.2"}


def test_frameworks_lists_and_shows_catalogs(tmp_path):
    listing = gapscan("frameworks", cwd=tmp_path)
    assert "iso9001-2015" in listing.stdout and "cmmi-v2-dev" in listing.stdout
    shown = gapscan("frameworks", "iso9001-2015", cwd=tmp_path)
    assert "9.2" in shown.stdout and "Internal audit" in shown.stdout
    # every bracketed kind is explained before it is used
    legend, _, listed = shown.stdout.partition("\n\n4.1")
    for kind, label in (("maintain", "Document required"), ("retain", "Records required"),
                        ("both", "Document and records required"), ("none", "No document or record required")):
        assert f"  [{kind}] {label}: " in legend
    assert "[retain  ] Internal audit" in listed


def test_explain_shows_tags_with_terms(demo, tmp_path):
    done = gapscan("explain", str(demo / "02-procedures" / "PR-03-corrective-action.docx"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "iso9001-2015 10.2" in done.stdout and "terms:" in done.stdout


def test_explain_shows_the_kind_and_every_check_of_the_decision(demo, tmp_path):
    done = gapscan("explain", str(demo / "02-procedures" / "PR-02-internal-audit.docx"), "--all", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "; kind: procedure" in done.stdout.splitlines()[0]
    items = re.split(r"\n  (?=tag |    \S)", done.stdout)[1:]
    assert len(items) > 3
    steps = ["record rule", "kind", "own text", "scope", "baseline", "main subject"]
    for item in items:
        why = re.search(r"^       why: (.*)$", item, re.MULTILINE).group(1)
        checks = re.findall(r"^       (pass|FAIL)  ([a-z ]+): (.*)$", item, re.MULTILINE)
        assert [name for _, name, _ in checks] == steps, item
        failed = [detail for verdict, _, detail in checks if verdict == "FAIL"]
        # a tag passed every step; anything else failed at least one, and the first is its reason
        assert item.startswith("tag ") == (not failed), item
        assert why == (failed[0] if failed else checks[-1][2]), item
    # Without --all: the tags, and what stood above the folder's baseline but was not a tag.
    short = gapscan("explain", str(demo / "02-procedures" / "PR-02-internal-audit.docx"), cwd=tmp_path)
    shown = re.findall(r"^  (tag |    )(\S+ .+): \d\.\d\d", short.stdout, re.MULTILINE)
    assert shown and len(shown) < len(items)
    assert all("pass  baseline" in item for item in re.split(r"\n  (?=tag |    \S)", short.stdout)[1:])


@pytest.mark.parametrize("path", [
    "02-procedures/PR-03-corrective-action.docx", "03-records/training/training-matrix.xlsx"])
def test_explain_gives_the_tags_and_scores_the_scan_reported(scanned, demo, path):
    _, report, work = scanned
    (document,) = [d for d in report["documents"] if d["path"] == path]
    reported = {(t["framework"], t["requirement"], f"{t['score']:.2f}") for t in document["tags"]}
    done = gapscan("explain", str(demo / path), cwd=work)
    assert reported and explained_tags(done.stdout) == reported


# --- every usage, configuration, input-file and output problem: one line, exit 2 ----------------


def one_error_line(done: Done | subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


@pytest.fixture
def small(tmp_path) -> Path:
    root = tmp_path / "qms"
    (root / "procedures").mkdir(parents=True)
    (root / "procedures" / "audit.md").write_text("# Internal audit procedure\n\nAudits are planned yearly.\n",
                                                  encoding="utf-8")
    return root


def run_scan(small: Path, *args: str) -> Done:
    return gapscan("scan", str(small), "--index", "i.sqlite", "--quiet", *args, cwd=small.parent)


@pytest.mark.parametrize("name, content, message", [
    ("gapscan.toml", b"frameworks = [\"iso9001-2015\"]\n# caf\xe9\n", "not UTF-8 text"),
    ("gapscan.toml", b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nested too deeply"),
    ("gapscan.toml", b"[limits]\nmax_chars = 9223372036854775807\n", "limits.max_chars must be a whole number from 1"),
    ("gapscan.toml", b"[limits]\nmax_memory_bytes = 9223372036854775807\n", "limits.max_memory_bytes must be"),
    ("gapscan.toml", b"follow_symlinks_outside = true\n",
     "follow_symlinks_outside = true in a configuration file inside"),
    ("labels.tsv", b"path\tiso9001\tcmmi\n\t9.2\n", "row 1 has no path"),
    ("labels.tsv", b"path\tiso9001\n" + b"x" * 200_000 + b"\t9.2\n", "not a valid labels table"),
    ("labels.tsv", b"path\tiso9001\n\xff\xfe\t9.2\n", "not UTF-8 text"),
    ("waivers.toml", b"[[waiver]]\nframework = \"iso9001-2015\"\nreason = \"\xe9\"\n", "not UTF-8 text"),
])
def test_unusable_configuration_and_input_files(small, name, content, message):
    (small / name).write_bytes(content)
    if name != "gapscan.toml":
        key = "labels" if name.startswith("labels") else "waivers"
        (small / "gapscan.toml").write_text(f'{key} = "{name}"\n', encoding="utf-8")
    line = one_error_line(run_scan(small, "--out", "out"))
    assert message in line
    assert not (small.parent / "out" / "report.json").exists()


@pytest.mark.parametrize("content, message", [
    ('{"schema": "gapscan.report/1", "frameworks": [{"id": "x", "coverage": NaN, "requirements": []}], '
     '"documents": []}', "NaN is not a JSON number"),
    ('{"schema": "gapscan.report/1", "x": Infinity}', "Infinity is not a JSON number"),
    ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
])
def test_unusable_baselines(small, content, message):
    (small.parent / "baseline.json").write_text(content, encoding="utf-8")
    assert message in one_error_line(run_scan(small, "--out", "out", "--baseline", "baseline.json"))


@pytest.mark.parametrize("option", ["--config", "--baseline", "--waivers", "labels"])
def test_a_fifo_named_as_an_input_stops_the_run_at_once(small, option):
    """Opening a FIFO waits for a writer for ever; it is refused without being opened."""
    fifo = small.parent / "input.fifo"
    os.mkfifo(fifo)
    if option == "labels":
        (small.parent / "gapscan.toml").write_text(f'labels = "{fifo}"\n', encoding="utf-8")
        args = ("--config", str(small.parent / "gapscan.toml"))
    else:
        args = (option, str(fifo))
    line = one_error_line(run_scan(small, "--out", "out", *args))  # (a hang fails on the timeout)
    assert "a FIFO (named pipe), not a regular file: never opened" in line


@pytest.mark.parametrize("out", ["qms", "qms/.", "qms/report", "qms/procedures/../report", "into-qms/report"])
def test_an_output_folder_inside_the_scanned_folder_is_refused_before_the_scan(small, out):
    os.symlink(small, small.parent / "into-qms")
    done = gapscan("scan", "qms", "--index", "i.sqlite", "--out", out, cwd=small.parent)
    assert "inside the scanned folder" in one_error_line(done)
    assert "Scanned" not in done.stdout and not list(small.rglob("report.*"))


def test_an_output_folder_in_the_vcs_folder_is_not_in_the_scanned_tree(small):
    """A pre-commit hook scans its whole repository and writes to .git, which is never scanned."""
    done = run_scan(small, "--out", "qms/.git/gapscan-report", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads((small / ".git" / "gapscan-report" / "report.json").read_text(encoding="utf-8"))
    assert [d["path"] for d in report["documents"]] == ["procedures/audit.md"]


def test_an_output_folder_that_cannot_be_written_is_refused_before_the_scan(small):
    (small.parent / "a-file").write_text("not a folder", encoding="utf-8")
    done = run_scan(small, "--out", "a-file/out")
    assert "--out a-file/out: cannot write there: Not a directory" in one_error_line(done)
    assert not (small.parent / "i.sqlite").exists()  # nothing was read


def test_a_full_disk_writes_no_report_at_all_and_says_so_in_one_line(small, tmp_path):
    """On a small tmpfs (needs the right to mount: skipped otherwise) the HTML report does not fit:
    not even the JSON, which would, is left behind, and the previous reports stay as they were."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        (disk / "report.json").write_text("previous", encoding="utf-8")
        line = one_error_line(run_scan(small, "--out", str(disk), "--format", "json,html"))
        assert f"{disk}: cannot write the reports: No space left on device" in line
        assert sorted(p.name for p in disk.iterdir()) == ["report.json"]
        assert (disk / "report.json").read_text(encoding="utf-8") == "previous"
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_explain_of_a_fifo_is_one_line_not_a_hang(small):
    os.mkfifo(small / "procedures" / "pipe.md")
    done = gapscan("explain", str(small / "procedures" / "pipe.md"), cwd=small.parent)
    assert "unreadable: a FIFO (named pipe), not a regular file: never opened" in one_error_line(done)


def test_json_is_written_whatever_the_formats_and_link_base_is_checked(demo, scanned, copy_index, tmp_path):
    copy_index(scanned[2] / "index.sqlite", tmp_path / "i.sqlite")  # the demo is read already: only written here
    done = gapscan("scan", str(demo), "--out", "out", "--index", "i.sqlite", "--format", "md,junit", "-q",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.junit.xml", "report.md"]
    refused = gapscan("scan", str(demo), "--out", "out", "--link-base", "javascript:alert(1)//", cwd=tmp_path)
    assert refused.returncode == 2 and "give an http, https or file URL" in refused.stderr


def test_progress_lines_in_a_log_include_discovery(scanned):
    done, _, _ = scanned
    assert "discover: 30 documents found" in done.stderr
    assert re.search(r"^extract: 30/30 documents, \d+ s$", done.stderr, re.MULTILINE)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals of size 0x0 are a Linux test")
def test_progress_lines_on_a_terminal_that_has_no_width(demo, tmp_path):
    """Some CI runners and container consoles give a terminal of 0 columns: progress bars would
    vanish there, so gapscan prints lines instead."""
    import pty

    leader, follower = pty.openpty()  # a fresh pseudo-terminal reports 0 rows and 0 columns
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    process = subprocess.Popen([sys.executable, "-m", "gapscan.scanner", "scan", str(demo), "--out", "out",
                                "--index", "i.sqlite", "--format", "json"], cwd=tmp_path, env=environment,
                               stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=300) == 0
    text = output.decode("utf-8", "replace")
    assert "discover: 30 documents found" in text and "extract: 30/30 documents" in text
    assert "\r" not in text.replace("\r\n", "")  # lines, not a bar redrawn in place


def test_each_document_shows_its_kind_and_what_it_was_judged_by(demo, scanned):
    _, report, work = scanned
    kinds = {d["path"]: d["kind"] for d in report["documents"]}
    assert kinds["03-records/capa/capa-log.xlsx"] == "record"
    assert kinds["02-procedures/PR-02-internal-audit.docx"] == "procedure"
    assert kinds["02-procedures/archive/purchasing-procedure-2014.doc"] is None, "a document that was not read"
    html = (work / "out" / "report.html").read_text(encoding="utf-8")
    row = html[html.index('<details class="doclist">'):]
    row = row[row.index("03-records/capa/capa-log.xlsx"):]
    assert '<td class="doc-kind">record<span class="doc-title">' in row[:row.index("</tr>")]
    done = gapscan("scan", str(demo), "--out", "xlsx", "--format", "xlsx", "--index", "index.sqlite",
                   cwd=work)
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(work / "xlsx" / "report.xlsx")["Documents"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    capa = rows["03-records/capa/capa-log.xlsx"]
    assert capa["Kind"] == "record" and "filled table rows" in capa["Kind judged by"]
