"""Quality gates: the repository lints and type-checks clean, and the wheel it builds works on its own.

ruff and mypy read their configuration from pyproject.toml (mypy checks the four folders under their
installed names through the symlinks in .ci/typecheck). The wheel test builds from a copy of the
files a release ships, installs into a fresh virtual environment that sees no other site-packages,
and scans the demo quality system with the installed command: a subpackage or a data file missing
from pyproject.toml fails it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest
from early import early

ROOT = Path(__file__).resolve().parents[1]
# What a wheel is built from: the project metadata, the files it names, and the four code folders.
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "scanner", "classifiers", "mappings", "reports")
CODE_FOLDERS = ("scanner", "classifiers", "mappings", "reports")


def _tool(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]' installs it)")


def test_ruff_finds_nothing():
    _tool("ruff")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@early("mypy")
def _mypy(workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(workdir / "cache")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
@pytest.mark.early("mypy")
def test_mypy_finds_nothing(early_results):
    _tool("mypy")
    done = early_results["mypy"].result()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_the_typecheck_layout_names_each_code_folder():
    layout = ROOT / ".ci" / "typecheck" / "gapscan"
    assert sorted(p.name for p in layout.iterdir()) == sorted(CODE_FOLDERS)
    for folder in CODE_FOLDERS:
        assert (layout / folder).resolve() == ROOT / folder


def _shipped_copy(dest: Path) -> Path:
    dest.mkdir()
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, dest / name)
    return dest


@dataclass(frozen=True)
class InstalledWheel:
    env_dir: Path
    installed_at: str  # where the fresh environment imports gapscan.scanner from
    out: Path  # the report folder of its scan of the demo
    scan: subprocess.CompletedProcess[str]


@early("wheel")
def _install_the_wheel_and_scan_the_demo(tmp_path: Path) -> InstalledWheel:
    wheels = tmp_path / "wheels"
    # Built from a copy: a stale build/ folder in the working tree cannot leak into the wheel.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels),
                    str(_shipped_copy(tmp_path / "source"))], check=True, timeout=900)
    (wheel,) = wheels.glob("gapscan-*.whl")

    env_dir = tmp_path / "venv"
    # Without pip of its own (ensurepip takes seconds): this interpreter's pip installs into it, and
    # skips compiling the dependencies' bytecode, which the scan does not need.
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # Only the environment's own packages: nothing from this interpreter or the working tree.
    clean = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
                    str(wheel)], check=True, env=clean, cwd=tmp_path, timeout=1800)
    where = subprocess.run([str(python), "-c", "import gapscan.scanner as m; print(m.__file__)"], check=True,
                           env=clean, cwd=tmp_path, capture_output=True, text=True).stdout.strip()

    demo = tmp_path / "demo-qms"
    subprocess.run([sys.executable, str(ROOT / "fixtures" / "demo_qms.py"), str(demo)], check=True,
                   capture_output=True, timeout=600)
    out = tmp_path / "report"
    done = subprocess.run([str(env_dir / "bin" / "gapscan"), "scan", str(demo), "--out", str(out),
                           "--index", str(tmp_path / "index.sqlite"), "--format", "json,html", "--quiet"],
                          env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    return InstalledWheel(env_dir, where, out, done)


@pytest.mark.slow
@pytest.mark.early("wheel")
def test_the_wheel_installs_into_a_clean_environment_and_scans_the_demo(early_results):
    installed = early_results["wheel"].result()
    assert Path(installed.installed_at).is_relative_to(installed.env_dir), installed.installed_at
    done, out = installed.scan, installed.out
    assert done.returncode == 0, done.stdout + done.stderr

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    frameworks = {framework["id"]: framework for framework in report["frameworks"]}
    assert set(frameworks) == {"iso9001-2015", "cmmi-v2-dev"}
    for framework in frameworks.values():
        assert framework["requirements"]
        assert framework["counts"]["covered"] > 0  # the classifier's model and profiles were shipped
    assert (out / "report.html").stat().st_size > 0
