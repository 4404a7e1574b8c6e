"""The ``gapscan`` command line.

Exit codes: 0 scan done and gates passed; 1 a gate failed (``--fail-under``, ``--fail-on``,
unreadable documents with ``--strict``); 2 a usage, configuration or catalog error, an input file
(labels, waivers, baseline) that cannot be used, an output location that cannot be written; 3 a
watch service that failed while running (a service manager may restart it; it would not help for
2). Each is one line on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from gapscan.mappings import EVIDENCE_KINDS, CatalogError, load_catalogs, requirement_order
from gapscan.reports.baseline import (
    BaselineError,
    Publication,
    WaiverError,
    WaiverReview,
    compare,
    gate_failures,
    load_baseline,
    load_waivers,
    review_waivers,
)
from gapscan.scanner.config import FAIL_ON, Config, ConfigError, load_config
from gapscan.scanner.documents import Extract
from gapscan.scanner.extract.cluster import ClusterError, cluster_address
from gapscan.scanner.index import IndexUnusable, default_index_path, remove_index
from gapscan.scanner.names import display_path
from gapscan.scanner.output import (DEFAULT_FORMATS, FORMATS, OutputError, check_output, link_base, with_json,
                                    write_reports)
from gapscan.scanner.pipeline import Scanner, ScanResult, not_assessed, scan, select_catalogs, tool_version

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


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


def _parsed_by(parse):
    """A click callback that reads an option's value with ``parse``: a ValueError is a usage error."""
    def callback(_ctx, _param, value):
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(tool_version(), prog_name="gapscan")
def main() -> None:
    """Find evidence gaps for ISO 9001:2015 and CMMI in a folder or git repository of documents."""


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
        click.option("--link-base", metavar="URL", callback=_parsed_by(link_base),
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


def config_from_options(path: Path, options: dict) -> Config:
    """The configuration file's settings with the command-line flags laid over them."""
    return _load(path, options["config_file"]).with_overrides(
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


def _executor(_context, _parameter, value: str) -> str:
    if value != "local":
        try:
            cluster_address(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


@main.command("scan")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@scan_options
@click.option("--executor", default="local", show_default=True, metavar="local|dask://HOST:PORT", callback=_executor,
              help="Where files are read and classified: local worker processes, or the workers of a Dask "
                   "cluster that see PATH at the same place (pip install 'gapscan[dask]').")
def scan_command(path: Path, **options) -> None:
    """Scan PATH and write the gap report."""
    started = time.monotonic()
    config = config_from_options(path, options)
    quiet = options["quiet"]
    _check_catalogs(config)  # every problem that needs no scan is found before the scan
    out_dir = _output(path, options["out_dir"])
    baseline, waivers = _baseline_and_waivers(config, options)
    _rebuild_index(path, options)
    progress = _Progress(enabled=not quiet)
    try:
        result = scan(path, config, index_path=options["index_file"], jobs=options["jobs"], progress=progress,
                      executor=options["executor"])
    except (ConfigError, CatalogError, IndexUnusable, ClusterError) as exc:
        raise UsageProblem(str(exc)) from exc
    finally:
        progress.close()
    publication = _publication(path, result, config, options, baseline, waivers)
    try:
        written = write_reports(result.report, out_dir, options["formats"], publication=publication)
    except OutputError as exc:
        raise UsageProblem(str(exc)) from exc
    if not quiet:
        _summarise(result, written, options["verbose"])
        _summarise_publication(publication)
    code = _gates(result.report, publication)
    if not quiet:
        click.echo(f"Done in {time.monotonic() - started:.1f} s.")
    sys.exit(code)


def _check_catalogs(config: Config) -> None:
    try:
        select_catalogs(config)
    except (ConfigError, CatalogError) as exc:
        raise UsageProblem(str(exc)) from exc


def _output(path: Path, out_dir: Path) -> Path:
    """``--out``, checked before anything is read: outside PATH, and writable."""
    try:
        return check_output(out_dir, path)
    except OutputError as exc:
        raise UsageProblem(str(exc)) from exc


def _baseline_and_waivers(config: Config, options: dict):
    """The baseline and the waivers, loaded before scanning so that a bad file stops the run early."""
    if options.get("fail_on") == "new-gaps" and options.get("baseline_file") is None:
        raise UsageProblem("--fail-on new-gaps needs --baseline PREVIOUS/report.json")
    if config.fail_on == "new-gaps" and options.get("baseline_file") is None and not options["quiet"]:
        click.echo("note: fail_on = \"new-gaps\" is not checked without --baseline", err=True)
    try:
        baseline = load_baseline(options["baseline_file"]) if options.get("baseline_file") else None
        waivers = load_waivers(config.waivers) if config.waivers is not None else ()
    except (BaselineError, WaiverError) as exc:
        raise UsageProblem(str(exc)) from exc
    return baseline, waivers


def _publication(path: Path, result: ScanResult, config: Config, options: dict, baseline, waivers) -> Publication:
    """What md, junit, xlsx, csv and sarif show besides the report: the diff, waivers, gate options."""
    from datetime import date

    from gapscan.reports.sarif import locate

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


def _rebuild_index(path: Path, options: dict) -> None:
    """``--rebuild-index``: delete the index file (and SQLite's files beside it) before the scan."""
    if not options.get("rebuild_index"):
        return
    try:
        remove_index(options["index_file"] or default_index_path(path.resolve()))
    except IndexUnusable as exc:
        raise UsageProblem(str(exc)) from exc


def _load(path: Path, config_file: Path | None) -> Config:
    try:
        return load_config(path, config_file)
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from exc


def _gates(report, publication: Publication) -> int:
    failures = gate_failures(report, publication)
    for failure in failures:
        click.echo(f"gate failed: {failure}", err=True)
    return EXIT_GATE if failures else EXIT_OK


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
                if verdict.status in ("missing", "partial"):
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


class _Progress:
    """A progress bar on a terminal that says how wide it is; anywhere else (a CI log, a terminal
    of unknown width) one line per stage, at most every 10 seconds. Discovery counts the files it
    has looked at, since their number is not known until it ends."""

    LINE_EVERY = 10.0  # seconds between two progress lines of one stage
    MIN_BAR_WIDTH = 40

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.width = _terminal_width() if sys.stderr.isatty() else 0
        self.bar = None
        self.stage = ""
        self.last_line = 0.0
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or (total == 0 and stage != "discover"):
            return
        if self.width >= self.MIN_BAR_WIDTH:
            from tqdm import tqdm

            if stage != self.stage:
                self.close()
                unit = "file" if stage == "discover" else "doc"
                self.bar = tqdm(total=total or None, desc=stage, unit=unit, leave=False, file=sys.stderr,
                                ncols=self.width)
                self.stage = stage
            if total and self.bar.total != total:  # discovery's end: the documents it found
                self.bar.total = total
            self.bar.update(done - self.bar.n)
        elif stage != self.stage or done == total or time.monotonic() - self.last_line > self.LINE_EVERY:
            self.stage = stage
            self.last_line = time.monotonic()
            if stage == "discover":
                what = f"{done} documents found" if total else f"{done} files looked at so far"
            else:
                what = f"{done}/{total} documents"
            click.echo(f"{stage}: {what}, {time.monotonic() - self.started:.0f} s", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _terminal_width() -> int:
    """Columns of the terminal on stderr; 0 when it does not say (a pseudo-terminal of size 0x0,
    as some CI runners and container consoles give)."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    if columns <= 0:
        try:
            columns = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            columns = 0
    return max(columns, 0)


@main.command("frameworks")
@click.argument("framework_id", required=False)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cmmi-level", type=click.IntRange(2, 3))
def frameworks_command(framework_id: str | None, config_file: Path | None, cmmi_level: int | None) -> None:
    """List the framework catalogs, or show one's requirements."""
    config = _load(Path.cwd(), config_file).with_overrides(cmmi_level=cmmi_level)
    try:
        catalogs = load_catalogs(config.catalog_folders)
    except CatalogError as exc:
        raise UsageProblem(str(exc)) from exc
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


@main.command("explain")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The folder your scan starts from (default: the folder of the closest gapscan.toml, "
                   "else the folder above the file's).")
@click.option("--framework", "frameworks", multiple=True, metavar="ID")
@click.option("--cmmi-level", type=click.IntRange(2, 3), help="Target CMMI maturity level (2 or 3).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@follow_symlinks_option
@click.option("--all", "show_all", is_flag=True, help="Also list the near misses, with why each is not a tag.")
def explain_command(file: Path, root: Path | None, frameworks, cmmi_level, config_file: Path | None,
                    follow_symlinks_outside: bool | None, show_all: bool) -> None:
    """Show which requirements FILE is evidence for, with scores, sections and terms, as a scan of
    its folder scores it."""
    file = Path(os.path.abspath(file))  # not resolved: a scan names a linked file by its link
    config = _load(root or file.parent, config_file).with_overrides(
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
    try:
        with Scanner(root, config) as scanner:
            scanner.sync()
            result = scanner.results.get(scanned_as)
            refused = scanner.refused.get(scanned_as)
            classified = next((c for c in scanner.classified() if c.path == scanned_as), None)
            catalogs = [catalog for catalog, _ in scanner.catalogs]
    except (ConfigError, CatalogError, IndexUnusable) as exc:
        raise UsageProblem(str(exc)) from exc
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
    found = sorted(classified.evidence, key=lambda e: -e.score)
    # Tags, and what stood above this folder's baseline like a tag but was not one (its checks say
    # why); --all: every near miss too.
    shown = [e for e in found if show_all or e.tag or _above_baseline(e)]
    if not any(e.tag for e in found):
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


def _serve_address(value: str) -> tuple[str, int]:
    from gapscan.scanner.serve import parse_address

    return parse_address(value)


@main.command("watch")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@scan_options
@click.option("--poll", type=click.FloatRange(0.1, 86_400), is_flag=False, flag_value=5.0, default=None,
              metavar="[SECONDS]",
              help="Look for changes every SECONDS (default 5) instead of waiting for change notifications: "
                   "for SMB/NFS shares, where inotify never fires. Write PATH before a bare --poll.")
@click.option("--serve", metavar="[HOST:]PORT", callback=_parsed_by(_serve_address),
              help="Serve the output folder and /health over HTTP, on 127.0.0.1 unless HOST is given.")
@click.option("--debounce", type=click.FloatRange(0, 60), default=0.5, show_default=True, metavar="SECONDS",
              help="Update once nothing has changed for SECONDS.")
def watch_command(path: Path, poll: float | None, serve: tuple[str, int] | None, debounce: float, **options) -> None:
    """Watch PATH and keep the reports in --out current. Stops on Ctrl-C or SIGTERM; SIGHUP compares
    the whole folder with the index again."""
    import logging
    import signal
    import threading

    from gapscan.scanner.watch import STOP_GRACE_SECONDS, WatchService

    config = config_from_options(path, options)
    _check_catalogs(config)
    out_dir = _output(path, options["out_dir"])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("gapscan").setLevel(
        logging.WARNING if options["quiet"] else logging.DEBUG if options["verbose"] else logging.INFO)
    if options["fail_under"] is not None or options["strict"]:
        click.echo("note: --fail-under and --strict are gates of `gapscan scan`; watch ignores them", err=True)
    _rebuild_index(path, options)
    service = WatchService(path, config, out_dir, options["formats"], index_path=options["index_file"],
                           jobs=options["jobs"], poll=poll, debounce=debounce, serve=serve,
                           link_base=options["link_base"] or "")
    handlers = {}
    try:
        # Handlers first: a signal during start-up stops the service as cleanly as one later.
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                handlers[signum] = signal.signal(signum, lambda *_: service.request_stop())
            if hasattr(signal, "SIGHUP"):
                handlers[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: service.request_resync())
        try:
            service.start()
        except (ConfigError, CatalogError, IndexUnusable, OutputError) as exc:
            raise UsageProblem(str(exc)) from exc
        except OSError as exc:
            raise UsageProblem(f"cannot start: {exc}") from exc
        while not service.wait(0.5):
            if service.stop_requested is not None and time.monotonic() - service.stop_requested > STOP_GRACE_SECONDS:
                break
    finally:
        # Idempotent: joins the worker and closes the server whatever happened above, within the grace
        # period that a stop request started; past it, whatever the worker is doing, the process ends.
        since = service.stop_requested or time.monotonic()
        stopped = service.stop(timeout=max(since + STOP_GRACE_SECONDS - time.monotonic(), 0.1))
        for signum, previous in handlers.items():
            signal.signal(signum, previous)
        if not stopped:
            _end_now(STOP_GRACE_SECONDS, EXIT_OK if service.stop_requested else EXIT_FAILED)
        logging.getLogger().removeHandler(handler)
    if service.error is not None:
        raise ServiceFailed(f"the watch service failed: {service.error}")


def _end_now(grace: float, code: int) -> None:
    """End the process at once: the watch worker did not stop within ``grace`` seconds (a parser
    that never returns, a file system that hangs). The index is SQLite in WAL mode and reports are
    renamed into place, so nothing is left half written; the extraction workers are ended too."""
    import logging
    import multiprocessing
    import signal

    logging.getLogger("gapscan.watch").warning("did not stop within %g s: ending the process and its workers now",
                                               grace)
    for child in multiprocessing.active_children():
        child.kill()
    for pid in _child_pids():  # a git or other helper the worker was waiting for
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(code)


def _child_pids() -> list[int]:
    """This process's children, from /proc (empty where there is none)."""
    children = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        try:
            if entry.isdigit() and int(Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[1]) == os.getpid():
                children.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return children


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


def _corpus(labels: Path, corpus: Path, cmmi_level, index_file, jobs, languages=()):
    from gapscan.classifiers.labels import LabelsError
    from gapscan.scanner.learn import read_corpus

    progress = _Progress(enabled=True)
    try:
        return read_corpus(corpus, labels, Config(cmmi_level=cmmi_level, all_files=True), index_file, jobs, progress,
                           tuple(languages))
    except (LabelsError, ConfigError, CatalogError, IndexUnusable) as exc:
        raise UsageProblem(str(exc)) from exc
    finally:
        progress.close()


@main.command("train")
@learning_options
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model file to write (.npz).")
def train_command(labels: Path, corpus: Path, cmmi_level, index_file, jobs, languages, out_file: Path) -> None:
    """Fit the supervised model from labelled documents."""
    from gapscan.scanner.learn import train_model

    documents = _corpus(labels, corpus, cmmi_level, index_file, jobs, languages)
    for path in documents.missing:
        click.echo(f"warning: labelled document not readable or not found: {path}", err=True)
    try:
        model = train_model(documents)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from exc
    try:
        model.save(out_file)
    except OSError as exc:
        raise UsageProblem(f"{out_file}: cannot write the model: {exc.strerror or exc}") from exc
    click.echo(f"Trained on {model.info['documents']} documents, {len(model.classes)} label classes, "
               f"{len(model.vocabulary)} terms; wrote {out_file}")


@main.command("eval")
@learning_options
@click.option("--cv", type=click.Choice(["source", "none"]), default="source", show_default=True,
              help="source: leave each source folder out in turn; none: score with the shipped model.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the figures as JSON to this file.")
@click.option("--gaps/--no-gaps", default=True, show_default=True,
              help="Also check that removing a requirement's documents turns it into a gap.")
def eval_command(labels: Path, corpus: Path, cmmi_level, index_file, jobs, languages, cv: str,
                 json_file: Path | None, gaps: bool) -> None:
    """Precision, recall and F1 of the tags against labelled documents, overall and by source."""
    import json

    from gapscan.scanner.learn import evaluate, format_evaluation, format_gap_detection, gap_detection, per_source

    documents = _corpus(labels, corpus, cmmi_level, index_file, jobs, languages)
    evaluation = evaluate(documents, cv)
    sources = per_source(documents, evaluation)
    click.echo(format_evaluation(evaluation, sources))
    figures = evaluation.as_dict()
    figures["sources"] = {source: [f.as_dict() for f in scores] for source, scores in sources.items()}
    if gaps:
        checks = gap_detection(documents, evaluation)
        click.echo(format_gap_detection(checks))
        figures["gap_detection"] = [
            {"source": c.source, "framework": c.framework, "label": c.label, "removed": c.removed,
             "detected": c.detected, "still_covered_by": list(c.kept)}
            for c in checks
        ]
    if json_file is not None:
        try:
            json_file.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"{json_file}: cannot write: {exc.strerror or exc}") from exc
        click.echo(f"Wrote {json_file}")
