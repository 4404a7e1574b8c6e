"""Data flows one way (DESIGN.md section 2): discover -> extract -> index -> classify -> assess ->
gate -> render. A stage knows the stages before it only through the types they hand on, which live
in ``gapscan.scanner.common`` and import nothing else from gapscan; the catalogs (``mappings``)
are data every stage may read. Only the application shell (CLI, watch service, pipeline) wires
stages together and may import anything.

This test reads the imports of every module (top-level and deferred ones alike) and fails on any
import that points back up the flow, or sideways into another stage's internals. A new module
must be given its stage in ``STAGES`` below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"scanner": "gapscan.scanner", "classifiers": "gapscan.classifiers", "mappings": "gapscan.mappings",
            "reports": "gapscan.reports"}

# The types passed from stage to stage: the standard library only.
LEAF_TYPES = {
    "gapscan.scanner.common",
    "gapscan.scanner.common.documents",
    "gapscan.scanner.common.evidence",
    "gapscan.scanner.common.kinds",
    "gapscan.scanner.common.status",
}
RENDERERS = ("csv_report", "html", "json_report", "junit", "markdown", "sarif", "xlsx")
SHELL = ("__init__", "__main__", "cli", "config", "learn", "output", "pipeline", "scoring", "serve", "watch")

# Module name (or package prefix ending in ".") -> stage. The longest match wins.
STAGES = {
    "gapscan.scanner.common.": "common",
    "gapscan.mappings": "mappings",
    "gapscan.mappings.": "mappings",
    "gapscan.scanner.discover": "discover",
    "gapscan.scanner.extract": "extract",
    "gapscan.scanner.extract.": "extract",
    "gapscan.scanner.index": "index",
    "gapscan.classifiers": "classify",
    "gapscan.classifiers.": "classify",
    "gapscan.reports.assess": "assess",
    "gapscan.reports": "report model",
    "gapscan.reports.model": "report model",
    "gapscan.reports.actions": "render helpers",  # the action plan: a view of the report alone
    "gapscan.reports.gate": "gate",
    "gapscan.reports.gate.": "gate",
    "gapscan.reports.inert": "render helpers",
    **{f"gapscan.reports.{name}": "render" for name in RENDERERS},
    "gapscan.scanner": "shell",
    **{f"gapscan.scanner.{name}": "shell" for name in SHELL},
    "gapscan.scanner.cli.": "shell",
    "gapscan.scanner.watch.": "shell",
}
STAGES["gapscan.scanner.common"] = "common"

# What each stage may import besides itself, the leaf types and the catalogs.
ALLOWED = {
    "common": set(),
    "mappings": {"common"},
    "discover": set(),
    "extract": set(),
    "index": set(),
    "classify": set(),
    "report model": set(),
    "assess": {"report model"},
    "gate": {"report model"},
    # A renderer shows the report and what the gate stage publishes beside it (baseline changes,
    # waivers, gate verdicts); how documents become evidence and verdicts is none of its business.
    "render helpers": {"report model"},
    "render": {"report model", "gate", "render helpers"},
}
EVERYONE_MAY_IMPORT = {"common", "mappings"}
# The report model is read by the gate stage and every renderer: like the leaf types, it builds on
# nothing but them (not even the catalogs).
ONLY_COMMON = {"common", "report model"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = PACKAGES[parts[0]]
    rest = parts[1:-1] if parts[-1] == "__init__" else parts[1:]
    return ".".join([package, *rest])


def modules() -> dict[str, Path]:
    found = {}
    for folder in PACKAGES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "templates" not in path.parts:
                found[module_name(path)] = path
    return found


MODULES = modules()


def imports(name: str, path: Path) -> set[str]:
    """The gapscan modules ``name`` imports: ``from gapscan.x import y`` counts as ``gapscan.x.y``
    when that is a module, else as ``gapscan.x``; relative imports are resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module.startswith("gapscan.") and module != name}


def stage_of(name: str) -> str | None:
    if name in STAGES:
        return STAGES[name]
    prefixes = [p for p in STAGES if p.endswith(".") and name.startswith(p)]
    return STAGES[max(prefixes, key=len)] if prefixes else None


def test_every_module_has_a_stage():
    assert [name for name in MODULES if stage_of(name) is None] == []


def test_the_leaf_types_import_nothing_from_gapscan():
    assert all(name in MODULES for name in LEAF_TYPES)
    offending = {name: sorted(imports(name, MODULES[name])) for name in sorted(LEAF_TYPES)}
    assert {name: found for name, found in offending.items() if found} == {}


def backward_imports(name: str, path: Path) -> list[str]:
    """The imports of module ``name`` (source at ``path``) that its stage may not make."""
    stage = stage_of(name)
    allowed = {stage, "common"} | ALLOWED[stage] | (set() if stage in ONLY_COMMON else EVERYONE_MAY_IMPORT)
    return sorted(f"{target} ({stage_of(target)})" for target in imports(name, path) if stage_of(target) not in allowed)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if stage_of(n) != "shell"))
def test_imports_follow_the_flow(name):
    assert backward_imports(name, MODULES[name]) == []


def test_the_stages_form_no_cycle():
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        for target in imports(name, path):
            if stage_of(name) != stage_of(target):
                edges.setdefault(stage_of(name), set()).add(stage_of(target))
    visiting, done = [], set()

    def visit(stage: str) -> None:
        assert stage not in visiting, f"stages import each other: {' -> '.join([*visiting, stage])}"
        if stage in done:
            return
        visiting.append(stage)
        for target in sorted(edges.get(stage, ())):
            visit(target)
        visiting.pop()
        done.add(stage)

    for stage in sorted(edges):
        visit(stage)


@pytest.mark.parametrize(("name", "added", "caught"), [
    ("gapscan.classifiers.tfidf", "from gapscan.scanner.pipeline import scan", "gapscan.scanner.pipeline (shell)"),
    ("gapscan.classifiers.tfidf", "from gapscan.scanner.extract import extract", "gapscan.scanner.extract (extract)"),
    ("gapscan.reports.assess", "from gapscan.classifiers.doctype import TEMPLATE",
     "gapscan.classifiers.doctype (classify)"),
    ("gapscan.reports.html", "from gapscan.reports.assess import assess", "gapscan.reports.assess (assess)"),
    ("gapscan.scanner.common.status", "from gapscan.mappings import Catalog", "gapscan.mappings (mappings)"),
    ("gapscan.reports.model", "from gapscan.mappings import Catalog", "gapscan.mappings (mappings)"),
])
def test_a_backward_import_is_caught(tmp_path, name, added, caught):
    """The checks above can fail: each of these imports, added to a module, is reported."""
    copy = tmp_path / MODULES[name].name
    copy.write_text(MODULES[name].read_text(encoding="utf-8") + f"\n{added}\n", encoding="utf-8")
    assert backward_imports(name, copy) == [caught]
