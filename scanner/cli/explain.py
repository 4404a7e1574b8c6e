"""``gapscan explain``: why a file is (or is not) evidence, as a scan of its folder scores it."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gapscan.scanner.cli.options import UsageProblem, follow_symlinks_option, load_settings


@click.command("explain")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The folder your scan starts from (default: the folder of the closest gapscan.toml, "
                   "else the folder above the file's).")
@click.option("--framework", "frameworks", multiple=True, metavar="ID")
@click.option("--cmmi-level", type=click.IntRange(2, 3), help="Target CMMI maturity level (2 or 3).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@follow_symlinks_option
@click.option("--all", "show_all", is_flag=True, help="Also list the near misses, with why each is not a tag.")
def explain_command(file: Path, *, root: Path | None, frameworks, cmmi_level, config_file: Path | None,
                    follow_symlinks_outside: bool | None, show_all: bool) -> None:
    """Show which requirements FILE is evidence for, with scores, sections and terms, as a scan of
    its folder scores it."""
    from gapscan.scanner.common.documents import Extract
    from gapscan.scanner.common.names import display_path
    from gapscan.scanner.pipeline import Scanner, not_assessed

    file = Path(os.path.abspath(file))  # not resolved: a scan names a linked file by its link
    config = load_settings(root or file.parent, config_file).with_overrides(
        frameworks=frameworks or None, cmmi_level=cmmi_level, follow_symlinks_outside=follow_symlinks_outside)
    if root is None:
        found = config.source if config_file is None else None  # found at or above the file
        root = found.parent if found is not None else file.parent.parent
    root = Path(os.path.abspath(root))
    if not file.is_relative_to(root):
        raise UsageProblem(f"{file} is not inside --root {root}")
    # Which scores are evidence depends on the whole folder (each requirement's baseline in it), so
    # the file is explained as part of a scan of ROOT, through the same index and pipeline: read as a
    # scan reads it, in a worker, under the limits, a regular file only.
    scanned_as = file.relative_to(root).as_posix()
    with Scanner(root, config) as scanner:
        scanner.sync()
        result = scanner.results.get(scanned_as)
        refused = scanner.refused.get(scanned_as)
        classified = next((c for c in scanner.classified() if c.path == scanned_as), None)
        catalogs = [catalog for catalog, _ in scanner.catalogs]
    if refused is not None:
        raise UsageProblem(f"{display_path(str(file))}: unreadable: {refused}")
    if result is None:
        raise UsageProblem(f"{scanned_as}: a scan of {root} does not read it (format, include/exclude or git)")
    if not isinstance(result, Extract):
        raise UsageProblem(f"{display_path(str(file))}: unreadable: {result.reason}")
    if classified is None:
        raise UsageProblem(f"{display_path(str(file))}: not assessed: {not_assessed(result.language, catalogs)}")
    kind = classified.kind
    click.echo(f"{scanned_as} (in {root}): {len(result.sections)} section(s); "
               f"kind: {kind.kind.replace('_', ' ')}" + (f" ({'; '.join(kind.signals)})" if kind.signals else ""))
    scored = sorted(classified.evidence, key=lambda e: -e.score)
    # Tags, and what stood above this folder's baseline like a tag but was not one (its checks say
    # why); --all: every near miss too.
    shown = [e for e in scored if show_all or e.tag or _above_baseline(e)]
    if not any(e.tag for e in scored):
        click.echo("  no tags: this document is not evidence for any requirement")
    for item in shown:
        mark = "tag " if item.tag else "    "
        where = f" in {item.locator}" if item.locator else ""
        click.echo(f"  {mark}{item.framework} {item.requirement}: {item.score:.2f}{where}")
        click.echo(f"       why: {item.decision}")
        click.echo(f"       terms: {', '.join(item.terms)}")
        for check in item.checks:
            click.echo(f"       {'pass' if check.passed else 'FAIL'}  {check.name}: {check.detail}")


def _above_baseline(evidence) -> bool:
    return any(check.name == "baseline" and check.passed for check in evidence.checks)
