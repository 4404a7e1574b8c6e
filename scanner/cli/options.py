"""What the commands share: exit codes and usage errors, the options of ``scan``/``watch`` and of
``train``/``eval``, and the steps that come before a scan (configuration, catalogs, output folder,
index). Imports nothing heavy at module level: building the options must stay fast for ``--help``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from gapscan.scanner.common.choices import DEFAULT_FORMATS, FAIL_ON, FORMATS, link_base, with_json
from gapscan.scanner.common.errors import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from gapscan.scanner.config import Config


class UsageProblem(click.ClickException):
    exit_code = EXIT_USAGE


class ServiceFailed(click.ClickException):
    exit_code = EXIT_FAILED


def _formats(_ctx, _param, value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(f"choose from {', '.join(FORMATS)} (comma-separated)")
    return with_json(chosen)


def parsed_by(parse):
    """A click callback that reads an option's value with ``parse``: a ValueError is a usage error."""
    def callback(_ctx, _param, value):
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


# Shared by ``scan``, ``watch`` and ``explain``: an explanation reads the folder as the scan did.
follow_symlinks_option = click.option(
    "--follow-symlinks-outside", is_flag=True, default=None,
    help="Also read files that symlinks lead to outside the scanned folder (by default they are listed, not read).")


def scan_options(command):
    """The options shared by ``scan`` and ``watch``: what to read, how to judge it, where to write."""
    options = [
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("gapscan-report"), show_default=True, help="Folder for the reports."),
        click.option("--format", "formats", default=",".join(DEFAULT_FORMATS), show_default=True,
                     callback=_formats, help=f"Report formats, comma-separated: {', '.join(FORMATS)}. "
                                             "report.json is always written too: the next run's baseline."),
        click.option("--link-base", metavar="URL", callback=parsed_by(link_base),
                     help="Web address of the scanned folder (a repository's address at the scanned commit, say): "
                          "document links in HTML, Markdown and SARIF point there. Default: links relative to --out."),
        click.option("--framework", "frameworks", multiple=True, metavar="ID",
                     help="Assess only this framework (repeatable). Default: every catalog."),
        click.option("--cmmi-level", type=click.IntRange(2, 3), help="Target CMMI maturity level (2 or 3)."),
        click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Configuration file (default: closest gapscan.toml or [tool.gapscan])."),
        click.option("--index", "index_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="SQLite index file (default: in the user cache folder, keyed by PATH)."),
        click.option("--rebuild-index", is_flag=True,
                     help="Delete the index (a corrupt one, say) and build it anew: every file is read again."),
        click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes for extraction."),
        click.option("--include", multiple=True, metavar="GLOB", help="Only files matching (gitignore style)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching (gitignore style)."),
        click.option("--all-files", is_flag=True, default=None,
                     help="In a git repository, take untracked files too."),
        follow_symlinks_option,
        click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT",
                     help="Exit 1 when any framework's coverage is below PCT percent."),
        click.option("--strict", is_flag=True, help="Exit 1 when any document is unreadable."),
        click.option("--baseline", "baseline_file", metavar="REPORT.json",
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A previous report.json: report new and resolved gaps, lost evidence, documents gone."),
        click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
                     help="Exit 1 on new gaps (against --baseline), on any gap, or not on gaps (default: none)."),
        click.option("--partial-ok", is_flag=True, help="Partial requirements fail no gate (JUnit: skipped)."),
        click.option("--waivers", "waivers_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="TOML file of accepted gaps, each with a reason and an expiry date."),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
        click.option("--verbose", "-v", is_flag=True, help="List every unreadable document and every gap."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def learning_options(command):
    """The options of ``train`` and ``eval``: a labels file and the folder its paths are relative to."""
    options = [
        click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
                     help="TSV or CSV with columns path, iso9001, cmmi (and optionally exclude)."),
        click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
                     help="The folder the labels' paths are relative to."),
        click.option("--cmmi-level", type=click.IntRange(2, 3), help="Target CMMI maturity level (2 or 3)."),
        click.option("--index", "index_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="SQLite index file for the corpus (default: in the user cache folder)."),
        click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes for extraction."),
        click.option("--lang", "languages", multiple=True, metavar="CODE",
                     help="Only the labelled documents whose lang column names CODE (repeatable; e.g. en)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def config_from_options(path: Path, options: dict) -> Config:
    """The configuration file's settings with the command-line flags laid over them."""
    return load_settings(path, options["config_file"]).with_overrides(
        frameworks=options["frameworks"] or None,
        cmmi_level=options["cmmi_level"],
        include=options["include"] or None,
        exclude=options["exclude"] or None,
        all_files=options["all_files"],
        follow_symlinks_outside=options["follow_symlinks_outside"],
        fail_under=options["fail_under"],
        fail_on=options.get("fail_on"),
        waivers=options.get("waivers_file"),
    )


def load_settings(path: Path, config_file: Path | None) -> Config:
    """The configuration for ``path`` (the closest file at or above it) or ``config_file``."""
    from gapscan.scanner.config import load_config

    return load_config(path, config_file)


def check_catalogs(config: Config) -> None:
    """Every problem that needs no scan (an unknown framework, a broken catalog) is found first."""
    from gapscan.scanner.pipeline import select_catalogs

    select_catalogs(config)


def output_folder(path: Path, out_dir: Path) -> Path:
    """``--out``, checked before anything is read: outside PATH, and writable."""
    from gapscan.scanner.output import check_output

    return check_output(out_dir, path)


def rebuild_index(path: Path, options: dict) -> None:
    """``--rebuild-index``: delete the index file (and SQLite's files beside it) before the scan."""
    if not options.get("rebuild_index"):
        return
    from gapscan.scanner.index import default_index_path, remove_index

    remove_index(options["index_file"] or default_index_path(path.resolve()))
