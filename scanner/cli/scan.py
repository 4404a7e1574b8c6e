"""``gapscan scan``: scan a folder, write the reports, apply the gates."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from gapscan.scanner.cli.options import (
    UsageProblem,
    check_catalogs,
    config_from_options,
    output_folder,
    rebuild_index,
    scan_options,
)
from gapscan.scanner.cli.progress import Progress
from gapscan.scanner.common.collection import collection_paused
from gapscan.scanner.common.errors import EXIT_GATE, EXIT_OK
from gapscan.scanner.common.status import GAP_STATUSES

if TYPE_CHECKING:
    from gapscan.reports.gate import Publication
    from gapscan.scanner.config import Config
    from gapscan.scanner.pipeline import ScanResult


def _executor(_context, _parameter, value: str) -> str:
    if value != "local":
        from gapscan.scanner.extract.cluster import cluster_address

        try:
            cluster_address(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


@click.command("scan")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@scan_options
@click.option("--executor", default="local", show_default=True, metavar="local|dask://HOST:PORT", callback=_executor,
              help="Where files are read and classified: local worker processes, or the workers of a Dask "
                   "cluster that see PATH at the same place (pip install 'gapscan[dask]').")
def scan_command(path: Path, **options) -> None:
    """Scan PATH and write the gap report."""
    from gapscan.scanner.output import write_reports
    from gapscan.scanner.pipeline import scan

    started = time.monotonic()
    config = config_from_options(path, options)
    quiet = options["quiet"]
    check_catalogs(config)  # every problem that needs no scan is found before the scan
    out_dir = output_folder(path, options["out_dir"])
    baseline, waivers = _baseline_and_waivers(config, options)
    rebuild_index(path, options)
    progress = Progress(enabled=not quiet)
    try:
        result = scan(path, config, index_path=options["index_file"], jobs=options["jobs"], progress=progress,
                      executor=options["executor"])
    finally:
        progress.close()
    with collection_paused():  # see collection_paused: the report is rendered from many small objects
        publication = _publication(path, result, config, options, baseline=baseline, waivers=waivers)
        written = write_reports(result.report, out_dir, options["formats"], publication=publication)
    if not quiet:
        _summarise(result, written, options["verbose"])
        _summarise_publication(publication)
    code = _gates(result.report, publication)
    if not quiet:
        click.echo(f"Done in {time.monotonic() - started:.1f} s.")
    sys.exit(code)


def _baseline_and_waivers(config: Config, options: dict):
    """The baseline and the waivers, loaded before scanning so that a bad file stops the run early."""
    from gapscan.reports.gate import load_baseline, load_waivers

    if options.get("fail_on") == "new-gaps" and options.get("baseline_file") is None:
        raise UsageProblem("--fail-on new-gaps needs --baseline PREVIOUS/report.json")
    if config.fail_on == "new-gaps" and options.get("baseline_file") is None and not options["quiet"]:
        click.echo("note: fail_on = \"new-gaps\" is not checked without --baseline", err=True)
    baseline = load_baseline(options["baseline_file"]) if options.get("baseline_file") else None
    waivers = load_waivers(config.waivers) if config.waivers is not None else ()
    return baseline, waivers


def _publication(path: Path, result: ScanResult, config: Config, options: dict, *, baseline, waivers) -> Publication:
    """What md, junit, xlsx, csv and sarif show besides the report: the diff, waivers, gate options."""
    from datetime import date

    from gapscan.reports.gate import Publication, WaiverReview, compare, review_waivers
    from gapscan.scanner.common.git import locate

    report = result.report
    repo_prefix, config_path = locate(path, config.source) if "sarif" in options["formats"] else ("", "")
    return Publication(
        diff=compare(baseline, report) if baseline is not None else None,
        waivers=review_waivers(waivers, report, date.today()) if waivers else WaiverReview(),
        partial_ok=options.get("partial_ok", False),
        fail_on=config.fail_on if config.fail_on and (baseline is not None or config.fail_on != "new-gaps") else "none",
        fail_under=config.fail_under,
        strict=options["strict"],
        config_path=config_path,
        repo_prefix=repo_prefix,
        link_base=options.get("link_base") or "",
    )


def _summarise_publication(publication: Publication) -> None:
    diff = publication.diff
    if diff is not None:
        click.echo(
            f"Against the baseline: {len(diff.new_gaps)} new gap(s), {len(diff.resolved)} resolved, "
            f"{len(diff.shrunk)} requirement(s) with less evidence, {len(diff.disappeared)} document(s) gone."
        )
    for waiver in publication.waivers.expired:
        click.echo(f"  warning: waiver for {waiver.framework} {waiver.requirement} expired on "
                   f"{waiver.expires.isoformat()} and no longer applies")
    for waiver in publication.waivers.unused:
        click.echo(f"  note: waiver for {waiver.framework} {waiver.requirement} matches no gap")


def _gates(report, publication: Publication) -> int:
    from gapscan.reports.gate import check_gates

    return EXIT_GATE if check_gates(report, publication, lambda line: click.echo(line, err=True)) else EXIT_OK


def _summarise(result: ScanResult, written: list[Path], verbose: bool) -> None:
    report, stats = result.report, result.stats
    summary = report.summary
    click.echo(
        f"Scanned {summary['documents']} documents in {stats.seconds:.1f} s "
        f"({stats.extracted} read, {stats.reused} from the index): "
        f"{summary['readable']} readable, {summary['unreadable']} unreadable or skipped."
    )
    if report.language_warning:
        click.echo(f"  warning: {report.language_warning}")
    if report.not_read.total:
        click.echo(f"  {report.not_read.sentence()}")
    for framework in report.frameworks:
        counts = framework.counts
        level = f" (level {framework.level})" if framework.level else ""
        click.echo(
            f"  {framework.id}{level}: coverage {framework.coverage:.0%} — "
            f"{counts['covered']} covered, {counts['partial']} partial, {counts['missing']} missing"
            + (f", {counts['not_applicable']} not applicable" if counts["not_applicable"] else "")
            + (f" (warning: {framework.not_assessed_note})" if framework.not_assessed else "")
        )
        if verbose:
            for verdict in framework.verdicts:
                if verdict.status in GAP_STATUSES:
                    click.echo(f"    {verdict.status:8} {verdict.id} {verdict.title}: {verdict.reason}")
    problems = [d for d in report.documents if d.status != "ok"]
    for document in problems if verbose else problems[:5]:
        click.echo(f"  warning: {document.path}: {document.reason}")
    if len(problems) > 5 and not verbose:
        click.echo(f"  … and {len(problems) - 5} more (see the report, or use --verbose)")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    for path in written:
        click.echo(f"Wrote {path}")
