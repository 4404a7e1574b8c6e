"""State that outlives a scan: an index killed mid-write, a corrupt index, a configuration file that
someone dropped into the scanned tree."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.documents import write_document, write_slow_pdf
from fixtures.hostile import NORMAL_SPECS
from gapscan.scanner.cli import main
from gapscan.scanner.config import Config, ConfigError, load_config
from gapscan.scanner.extract import Limits
from gapscan.scanner.pipeline import scan

TIMEOUT = 2  # seconds per file: the slow PDF keeps extraction busy this long


def build_tree(root: Path, copies: int = 3) -> Path:
    """Ordinary documents in several folders, and one PDF that takes the whole time-out."""
    for copy in range(copies):
        for relative, spec in NORMAL_SPECS.items():
            write_document(root / f"unit-{copy}" / Path(relative).name, spec)
    (root / "unit-0" / "broken.docx").write_bytes(b"PK\x03\x04 broken")
    write_slow_pdf(root / "slow.pdf")
    return root


def documents_of(report: dict) -> list[tuple]:
    return [
        (d["path"], d["status"], d["reason"], d["sha256"],
         sorted((t["framework"], t["requirement"]) for t in d["tags"]))
        for d in report["documents"]
    ]


class Scan:
    """``gapscan scan`` in a forked child (the modules are loaded already: no interpreter start-up
    to wait for), in a session of its own so that one SIGKILL takes its workers too."""

    def __init__(self, tree: Path, work: Path, *extra: str):
        args = ["scan", str(tree), "--out", "out", "--index", "index.sqlite", "--config", "gapscan.toml",
                "--jobs", "2", "--format", "html,json,md,csv,xlsx", "--quiet", *extra]
        log = work / "scan.log"
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child
            code = 70
            try:
                os.setsid()
                os.chdir(work)
                descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(descriptor, 1)
                os.dup2(descriptor, 2)
                main(args, standalone_mode=True)
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except BaseException:  # noqa: BLE001
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        self.log = log
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def wait(self, timeout: float = 300) -> int:
        limit = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > limit:
                self.kill()
            time.sleep(0.01)
        return self.returncode


def kill_when(process: Scan, ready, deadline: float = 120) -> bool:
    """SIGKILL the scan (and its workers: its whole session) as soon as ``ready()``; False when
    the scan ended first."""
    limit = time.monotonic() + deadline
    try:
        while not ready():
            if process.poll() is not None or time.monotonic() > limit:
                return False
            time.sleep(0.002)
        process.kill()
        return True
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_an_index_the_next_scan_completes(tmp_path):
    tree = build_tree(tmp_path / "tree")
    work = tmp_path / "work"
    work.mkdir()
    (work / "gapscan.toml").write_text(f"[limits]\ntimeout_seconds = {TIMEOUT}\n", encoding="utf-8")
    index, out = work / "index.sqlite", work / "out"
    rng = random.Random(20260302)

    def index_appears():
        return index.exists()

    delay = rng.uniform(0.3, 1.5)
    appeared = []

    def mid_extraction():  # a seeded random moment after the index is opened
        if not index.exists():
            return False
        appeared.append(appeared[0] if appeared else time.monotonic())
        return time.monotonic() - appeared[0] >= delay

    def mid_write():  # some reports written, not all
        return (out / "report.html").exists() or any(out.glob(".report*.tmp"))

    killed = []
    for name, ready in (("index appears", index_appears), ("mid-extraction", mid_extraction),
                        ("mid-write", mid_write)):  # fmt: skip
        for _ in range(5):  # the reports take milliseconds: a kill meant for mid-write can come after them
            killed.append((name, kill_when(Scan(tree, work), ready)))
            if index.exists():
                with sqlite3.connect(index) as db:
                    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), name
            if name != "mid-write" or not (out / "report.xlsx").exists():
                break
            shutil.rmtree(out)
    assert all(done for _, done in killed), killed
    assert not (out / "report.xlsx").exists(), "no mid-write kill came before the last report"

    final = Scan(tree, work)
    assert final.wait() == 0, final.log.read_text()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))

    clean = scan(tree, Config(limits=Limits(timeout_seconds=TIMEOUT)), index_path=tmp_path / "clean.sqlite", jobs=2)
    expected = json.loads(json.dumps({"documents": [
        {"path": d.path, "status": d.status, "reason": d.reason, "sha256": d.sha256,
         "tags": [{"framework": t.framework, "requirement": t.requirement} for t in d.tags]}
        for d in clean.report.documents]}))  # fmt: skip
    assert documents_of(report) == documents_of(expected)
    assert report["summary"]["documents"] == len(NORMAL_SPECS) * 3 + 2


# --- a corrupt index -------------------------------------------------------------------------


@pytest.fixture
def small_tree(tmp_path):
    root = tmp_path / "tree"
    for relative in list(NORMAL_SPECS)[:3]:
        write_document(root / relative, NORMAL_SPECS[relative])
    return root


def run_cli(tree: Path, tmp_path: Path, *extra: str):
    args = ["scan", str(tree), "--out", str(tmp_path / "out"), "--index", str(tmp_path / "index.sqlite"),
            "--jobs", "1", "--format", "json", "--quiet", *extra]
    return CliRunner().invoke(main, args)


def corrupt_pages(index: Path) -> None:
    """Keep the first page (header and schema), overwrite every other page with noise."""
    data = bytearray(index.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    noise = random.Random(3).randbytes(len(data) - page)
    index.write_bytes(bytes(data[:page]) + noise)


@pytest.mark.parametrize("damage", ["garbage", "pages", "newer", "foreign"])
def test_a_corrupt_index_is_a_clear_error_and_rebuild_index_recovers(small_tree, tmp_path, damage):
    index = tmp_path / "index.sqlite"
    if damage == "garbage":
        index.write_bytes(random.Random(1).randbytes(8192))
        Path(f"{index}-wal").write_bytes(b"not a wal")
        Path(f"{index}-shm").write_bytes(b"not a shm")
    else:
        assert run_cli(small_tree, tmp_path).exit_code == 0
        if damage == "pages":
            corrupt_pages(index)
        else:
            with sqlite3.connect(index) as db:
                if damage == "newer":
                    db.execute("UPDATE meta SET value='99' WHERE key='schema'")
                else:  # a database of the same name whose tables are not ours
                    db.execute("DROP TABLE files")
                    db.execute("CREATE TABLE files (name TEXT)")

    failed = run_cli(small_tree, tmp_path)
    assert failed.exit_code == 2, failed.output
    assert str(index) in failed.output and "--rebuild-index" in failed.output
    assert "Traceback" not in failed.output

    rebuilt = run_cli(small_tree, tmp_path, "--rebuild-index")
    assert rebuilt.exit_code == 0, rebuilt.output
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [d["status"] for d in report["documents"]] == ["ok"] * 3
    with sqlite3.connect(index) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = run_cli(small_tree, tmp_path)  # and the rebuilt index serves the next scan
    assert again.exit_code == 0, again.output


def test_an_index_folder_that_cannot_be_made_is_a_usage_error(small_tree, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = CliRunner().invoke(main, ["scan", str(small_tree), "--out", str(tmp_path / "out"),
                                     "--index", str(blocker / "sub" / "index.sqlite"), "--quiet"])
    assert done.exit_code == 2 and "cannot create the index folder" in done.output


# --- a configuration file inside the scanned tree --------------------------------------------


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gapscan.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("setting", "value"),
    [("catalogs", '["../outside-catalogs"]'), ("catalogs", '["/etc"]'), ("labels", '"/etc/passwd"'),
     ("labels", '"../labels.tsv"'), ("waivers", '"../../waivers.toml"'), ("catalogs", '["link"]')],
)  # fmt: skip
def test_a_config_in_the_tree_cannot_name_files_outside_it(tmp_path, setting, value):
    root = tmp_path / "share"
    (tmp_path / "outside-catalogs").mkdir()
    root.mkdir()
    os.symlink(tmp_path / "outside-catalogs", root / "link")  # inside by name, outside in fact
    write_config(root, f"{setting} = {value}\n")
    with pytest.raises(ConfigError, match=f"{setting} names .*outside the scanned folder"):
        load_config(root)
    done = CliRunner().invoke(main, ["scan", str(root), "--out", str(tmp_path / "out"),
                                     "--index", str(tmp_path / "i.sqlite"), "--quiet"])
    assert done.exit_code == 2 and "outside the scanned folder" in done.output


def test_a_config_in_the_tree_may_name_files_inside_it(tmp_path):
    root = tmp_path / "share"
    (root / "catalogs").mkdir(parents=True)
    write_config(root, 'catalogs = ["catalogs"]\nlabels = "labels.tsv"\nwaivers = "sub/../waivers.toml"\n')
    config = load_config(root)
    assert config.catalog_folders == (root / "catalogs",) and config.labels == root / "labels.tsv"


def test_a_config_above_the_tree_or_given_explicitly_may_name_any_file(tmp_path):
    root = tmp_path / "org" / "share"
    root.mkdir(parents=True)
    write_config(tmp_path / "org", 'catalogs = ["/etc/gapscan-catalogs"]\n')
    assert load_config(root).catalog_folders == (Path("/etc/gapscan-catalogs"),)
    explicit = write_config(root, 'labels = "/srv/labels.tsv"\n')
    assert load_config(root, explicit).labels == Path("/srv/labels.tsv")


@pytest.mark.parametrize("key", ["out", "out_dir", "index", "template_dir", "templates", "model", "plugins"])
def test_no_config_key_names_an_output_a_template_or_code(tmp_path, key):
    root = tmp_path / "share"
    write_config(root, f'{key} = "/tmp/elsewhere"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(root)


def test_a_config_in_the_tree_runs_no_code_and_writes_only_to_out(tmp_path):
    """Catalogs are TOML data: a Python file or a pickle in the catalog folder is never loaded."""
    root = tmp_path / "share"
    catalogs = root / "catalogs"
    catalogs.mkdir(parents=True)
    marker = tmp_path / "ran"
    (catalogs / "evil.catalog.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (catalogs / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (catalogs / "model.pkl").write_bytes(b"\x80\x04cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")
    write_document(root / "procedure.md", NORMAL_SPECS["normal/document-control.md"])
    write_config(root, 'catalogs = ["catalogs"]\nframeworks = ["iso9001-2015"]\n')
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = CliRunner().invoke(main, ["scan", str(root), "--out", str(tmp_path / "out"),
                                     "--index", str(tmp_path / "i.sqlite"), "--quiet", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert not marker.exists()
    after = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")} - set(before)
    assert {p.parts[0] for p in after} <= {"out", "i.sqlite", "i.sqlite-wal", "i.sqlite-shm"}, after
