"""``gapscan frameworks``: list the catalogs, or show one's requirements."""

from __future__ import annotations

from pathlib import Path

import click

from gapscan.scanner.cli.options import UsageProblem, load_settings


@click.command("frameworks")
@click.argument("framework_id", required=False)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cmmi-level", type=click.IntRange(2, 3))
def frameworks_command(framework_id: str | None, config_file: Path | None, cmmi_level: int | None) -> None:
    """List the framework catalogs, or show one's requirements."""
    from gapscan.mappings import EVIDENCE_KINDS, load_catalogs, requirement_order

    config = load_settings(Path.cwd(), config_file).with_overrides(cmmi_level=cmmi_level)
    catalogs = load_catalogs(config.catalog_folders)
    if framework_id is None:
        for catalog in catalogs.values():
            level = catalog.default_level
            click.echo(f"{catalog.id:16} {catalog.title} ({len(catalog.in_scope(level))} requirements"
                       + (f" at level {level}" if level else "") + ")")
        return
    if framework_id not in catalogs:
        raise UsageProblem(f"unknown framework {framework_id!r}; known: {', '.join(catalogs)}")
    catalog = catalogs[framework_id]
    level = config.cmmi_level or catalog.default_level if catalog.levels else None
    click.echo(f"{catalog.title} — {catalog.version}" + (f", level {level}" if level else ""))
    click.echo(catalog.licence)
    click.echo("")
    click.echo("What each requirement asks for, in brackets:")
    for kind, (label, meaning) in EVIDENCE_KINDS.items():
        click.echo(f"  [{kind}] {label}: {meaning}.")
    click.echo("")
    for requirement in sorted(catalog.in_scope(level), key=lambda r: requirement_order(r.id)):
        click.echo(f"{requirement.id:10} [{requirement.evidence:8}] {requirement.title}")
        click.echo(f"{'':10} {requirement.intent}")
