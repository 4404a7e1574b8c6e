"""The scan pipeline: discover -> extract (through the index) -> classify -> assess -> GapReport.

Nothing here writes reports or talks to the terminal; the CLI and the watch service do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

from gapscan.classifiers.doctype import document_kind
from gapscan.classifiers.evidence import Evidence
from gapscan.classifiers.tfidf import Tagger
from gapscan.mappings import Catalog, bundled_crosswalks, load_catalogs
from gapscan.reports.assess import AssessmentInputs, Thresholds, assess
from gapscan.reports.model import DocumentEntry, GapReport, Tag
from gapscan.scanner.config import Config, ConfigError
from gapscan.scanner.discover import Candidate, discover
from gapscan.scanner.documents import Document, Extract, Unreadable
from gapscan.scanner.extract import EXTRACTOR_VERSION, extract_all
from gapscan.scanner.index import Index, default_index_path, sha256_file

Progress = Callable[[str, int, int], None]  # stage, done, total


def tool_version() -> str:
    try:
        return version("gapscan")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class ScanStats:
    discovered: int
    extracted: int  # read from disk this run
    reused: int  # taken from the index
    seconds: float


@dataclass(frozen=True)
class ScanResult:
    report: GapReport
    stats: ScanStats
    evidence: tuple[Evidence, ...]


def select_catalogs(config: Config) -> list[tuple[Catalog, int | None]]:
    """The catalogs to assess, each with its target level (CMMI maturity level)."""
    catalogs = load_catalogs(config.catalog_folders)
    wanted = config.frameworks or tuple(catalogs)
    unknown = [f for f in wanted if f not in catalogs]
    if unknown:
        raise ConfigError(f"unknown framework(s): {', '.join(unknown)}; known: {', '.join(catalogs)}")
    selected = []
    for framework in wanted:
        catalog = catalogs[framework]
        level = None
        if catalog.levels:
            level = config.cmmi_level or catalog.default_level
            if level not in catalog.levels:
                raise ConfigError(f"{framework}: level {level} is not one of {list(catalog.levels)}")
        selected.append((catalog, level))
    return selected


def scan(
    root: Path,
    config: Config,
    *,
    index_path: Path | None = None,
    jobs: int | None = None,
    skip: tuple[Path, ...] = (),
    progress: Progress | None = None,
    today: date | None = None,
) -> ScanResult:
    started = time.monotonic()
    root = root.resolve()
    notify = progress or (lambda stage, done, total: None)
    catalogs = select_catalogs(config)
    found = discover(root, config.include, config.exclude, config.all_files, skip)
    notify("discover", len(found.candidates), len(found.candidates))

    with Index(index_path or default_index_path(root)) as index:
        results, extracted = _read_documents(index, found.candidates, config, jobs, notify)
        index.forget_missing({c.path for c in found.candidates})

        tagger = Tagger(catalogs)
        extracts = [r for r in results if isinstance(r, Extract)]
        evidence: list[Evidence] = []
        for done, extract in enumerate(extracts, 1):
            evidence.extend(tagger.evidence(extract))
            notify("classify", done, len(extracts))

        dates = {r.document.path: _content_date(r, found.commit_dates) for r in results}
        kinds = {e.document.path: document_kind(e.document.path, e.metadata.title) for e in extracts}
        settings = tagger.settings
        thresholds = Thresholds(settings.threshold, settings.threshold * 0.8, settings.near_miss_floor)
        inputs = AssessmentInputs(dates, kinds, today or date.today())
        in_scope = {catalog.id for catalog, _ in catalogs}
        frameworks = tuple(
            assess(
                catalog,
                level,
                evidence,
                inputs,
                thresholds,
                config.not_applicable.get(catalog.id),
                config.max_age_days.get(catalog.id),
                bundled_crosswalks(),
                in_scope,
            )
            for catalog, level in catalogs
        )
        report = GapReport(
            tool_version=tool_version(),
            generated_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            root=str(root),
            frameworks=frameworks,
            documents=_document_entries(results, evidence, dates, settings.threshold),
            warnings=found.warnings,
        )
        index.record_scan(
            report.generated_at,
            report.summary["documents"],
            report.summary["readable"],
            {f.id: f.coverage for f in frameworks},
        )
    stats = ScanStats(len(found.candidates), extracted, len(results) - extracted, time.monotonic() - started)
    return ScanResult(report, stats, tuple(evidence))


def _read_documents(index, candidates: tuple[Candidate, ...], config: Config, jobs, notify):
    """Every candidate as an Extract or Unreadable: from the index when its content is known."""
    results: list[Extract | Unreadable] = []
    documents: list[Document] = []
    todo: list[tuple[Path, Document]] = []
    for candidate in candidates:
        sha = index.known_hash(candidate.path, candidate.size, candidate.mtime)
        document = Document(candidate.path, candidate.format, candidate.size, candidate.mtime, sha or "")
        if sha is None:
            try:
                document = Document(**{**document.__dict__, "sha256": sha256_file(candidate.absolute)})
            except OSError as exc:
                results.append(Unreadable(document, f"cannot read: {exc.strerror or exc}"))
                continue
        documents.append(document)
        cached = index.cached(document, EXTRACTOR_VERSION)
        if cached is None:
            todo.append((candidate.absolute, document))
        else:
            results.append(cached)
    index.record_files(documents)

    fresh: list[Extract | Unreadable] = []
    workers = jobs or min(os.cpu_count() or 1, 8)
    for done, result in enumerate(extract_all(todo, config.limits, workers), 1):
        fresh.append(result)
        notify("extract", done, len(todo))
    index.store(fresh, EXTRACTOR_VERSION)
    results.extend(fresh)
    results.sort(key=lambda r: r.document.path)
    return results, len(todo)


def _content_date(result: Extract | Unreadable, commit_dates: dict[str, str]) -> str:
    """When the document's content dates from: its own metadata, a date written in it, its last
    commit (a fresh CI clone makes every mtime "now"), then its modification time."""
    if isinstance(result, Extract):
        metadata = result.metadata
        if metadata.modified or metadata.created:
            return (metadata.modified or metadata.created)[:10]
        if metadata.dates_in_text:
            return max(metadata.dates_in_text)[:10]
    path = result.document.path
    if path in commit_dates:
        return commit_dates[path]
    return datetime.fromtimestamp(result.document.mtime, timezone.utc).date().isoformat()


def _document_entries(results, evidence: list[Evidence], dates, threshold: float) -> tuple[DocumentEntry, ...]:
    tags: dict[str, list[Tag]] = {}
    for item in evidence:
        if item.score >= threshold:
            tags.setdefault(item.path, []).append(Tag(item.framework, item.requirement, item.score))
    entries = []
    for result in results:
        document = result.document
        if isinstance(result, Extract):
            status, reason, title = "ok", None, result.metadata.title
        else:
            status, reason, title = ("skipped" if result.skipped else "unreadable"), result.reason, ""
        entries.append(
            DocumentEntry(
                path=document.path,
                format=document.format,
                bytes=document.size,
                sha256=document.sha256,
                modified=dates.get(document.path, ""),
                status=status,
                reason=reason,
                title=title,
                tags=tuple(sorted(tags.get(document.path, []), key=lambda t: (t.framework, -t.score))),
            )
        )
    return tuple(entries)
