"""The scan pipeline: discover -> extract (through the index) -> classify -> assess -> GapReport.

``Scanner`` keeps each document's extract and scores between runs, so the watch service can re-read
one changed file and reassess without a full rescan; ``scan`` is the one-off use of it. Which scores
are evidence is decided at each report, over the whole collection (``Tagger.decide``).
Nothing here writes reports or talks to the terminal; the CLI and the watch service do.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from typing import TYPE_CHECKING

from gapscan.classifiers.decision import Classified, Decider, Decision, TaggerSettings, reported
from gapscan.classifiers.labels import LabelsError, load_labels
from gapscan.classifiers.models import default_model
from gapscan.mappings import Catalog, bundled_crosswalks, load_catalogs
from gapscan.reports.assess import MAX_NEAR_MISSES, AssessmentInputs, assess
from gapscan.reports.model import DocumentEntry, FrameworkResult, GapReport, HistoryPoint, NotRead, Tag
from gapscan.scanner.common.clock import now_stamp
from gapscan.scanner.common.collection import collection_paused
from gapscan.scanner.common.documents import Document, Extract, ExtractResult, Unreadable
from gapscan.scanner.common.evidence import Evidence
from gapscan.scanner.common.languages import in_order, language_name, names
from gapscan.scanner.common.names import display_path
from gapscan.scanner.config import Config, ConfigError
from gapscan.scanner.discover import (
    EXCLUDED,
    UNSUPPORTED,
    Candidate,
    FileFilter,
    Refusal,
    discover,
    file_type,
    git_tracked,
    inspect,
)
from gapscan.scanner.extract import (
    EXTRACTOR_VERSION,
    Known,
    Scored,
    extract_all,
    score_all,
    stop_worker_server,
    timed_out,
)
from gapscan.scanner.extract.cluster import cluster_address, extract_on_cluster
from gapscan.scanner.extract.guards import TOO_LARGE, too_large
from gapscan.scanner.index import Index, KnownContent, StoredExtract, default_index_path
from gapscan.scanner.scoring import (
    HeldScores,
    Scorer,
    decision_from_stored,
    decision_key,
    fingerprint,
    stored_decision,
    stored_scores,
)

if TYPE_CHECKING:
    from gapscan.classifiers.supervised import SupervisedModel
    from gapscan.classifiers.tfidf import Tagger

Progress = Callable[[str, int, int], None]  # stage, done, total (0 while unknown: files discovered so far)
# Results written to the index together (and then held without their text): at most this many
# documents, and a batch ends once its text reaches this many characters (a run of 1,500-row
# registers would otherwise be held 200 at a time).
_STORE_BATCH = 200
_STORE_BATCH_CHARS = 1_000_000
# Documents to score from the index at least, for worker processes to score them: fewer take less
# time than the workers' start.
_SCORED_IN_WORKERS = 200


def tool_version() -> str:
    try:
        return version("gapscan")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class ScanStats:
    discovered: int
    extracted: int  # read from disk this run
    reused: int  # taken from the index or from memory
    removed: int  # documents gone since the last run
    seconds: float


@dataclass(frozen=True)
class ScanResult:
    report: GapReport
    stats: ScanStats
    evidence: tuple[Evidence, ...]  # what the report weighed: every tag and the near misses it lists


_LEADING = ("iso9001-2015", "cmmi-v2-dev")


def _report_rank(framework: str) -> tuple[int, str]:
    """ISO 9001 first, then CMMI, then a user's own catalogs by id."""
    return (_LEADING.index(framework) if framework in _LEADING else len(_LEADING), framework)


def select_catalogs(config: Config) -> list[tuple[Catalog, int | None]]:
    """The catalogs to assess, each with its target level (CMMI maturity level)."""
    catalogs = load_catalogs(config.catalog_folders)
    wanted = tuple(dict.fromkeys(config.frameworks)) or tuple(sorted(catalogs, key=_report_rank))
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
        if not catalog.in_scope(level):
            raise ConfigError(f"{framework}: no requirement is in scope" + (f" at level {level}" if level else ""))
        selected.append((catalog, level))
    _check_requirement_settings(config, {catalog.id: catalog for catalog, _ in selected})
    return selected


def _check_requirement_settings(config: Config, catalogs: dict[str, Catalog]) -> None:
    """A misspelt framework or clause in not_applicable or max_age would silently do nothing."""
    for key, table in (("not_applicable", config.not_applicable), ("max_age", config.max_age_days)):
        for framework, entries in table.items():
            catalog = catalogs.get(framework)
            if catalog is None:
                continue  # a framework this run does not assess (--framework) may still be configured
            known = {r.id for r in catalog.requirements}
            unknown = sorted(set(entries) - known)
            if unknown:
                raise ConfigError(f"{key}.{framework}: no such requirement: {', '.join(unknown)}")


class Scanner:
    """One scanned root with its index, and what is known about each of its documents."""

    def __init__(
        self,
        root: Path,
        config: Config,
        *,
        index_path: Path | None = None,
        jobs: int | None = None,
        skip: tuple[Path, ...] = (),
        progress: Progress | None = None,
        executor: str | None = None,
    ):
        self.root = root.resolve()
        # Where files are read and scored: None for local worker processes, else a Dask scheduler's
        # address (``--executor dask://HOST:PORT``, see scanner/extract/cluster.py).
        self.cluster = cluster_address(executor) if executor and executor != "local" else None
        self.config = config
        self.catalogs = select_catalogs(config)
        # Which scores are evidence needs only the requirements; the tagger that scores documents
        # (profiles fitted, scikit-learn imported) is built when a document needs scoring.
        self.decider = Decider(self.catalogs)
        self._use_model(default_model())
        self.labels_hash = ""  # training hash of the model trained from the configured labels
        self.jobs = jobs or min(os.cpu_count() or 1, 8)
        if config.labels is not None:  # a labels file that cannot be used stops the run before it starts
            try:
                load_labels(config.labels)
            except LabelsError as exc:
                raise ConfigError(f"labels: {exc}") from exc
        # Our own inputs are not documents: a labels file lists clause ids and would be tagged.
        self.skip = skip + tuple(p for p in (config.labels, config.waivers) if p is not None)
        self._skipped = {p.resolve() for p in self.skip}
        self.confined = not config.follow_symlinks_outside
        self.notify = progress or (lambda stage, done, total: None)
        self.filter = FileFilter(config.include, config.exclude)
        self.index = Index(index_path or default_index_path(self.root))
        if not self.index.has_scores(self.fingerprint):
            # A catalog the classifier cannot use fails at once (see Tagger), not at the first
            # document in its language; scores stored under this fingerprint show it was built before.
            self.tagger  # noqa: B018
        self.results: dict[str, ExtractResult] = {}
        self.scores = HeldScores()
        self._classified: list[Classified] | None = None  # decided over ``scores`` as they are (None: changed since)
        self._decision: Decision | None = None  # what a report weighs of it (None: changed since)
        self.git = False  # whether the root is read as a git work tree (tracked files only)
        self.commit_dates: dict[str, str] = {}
        self.folder_warnings: tuple[str, ...] = ()
        self.refused: dict[str, str] = {}  # path -> why it is not read (see discover.Refusal)
        self.not_read: dict[str, Counter[str]] = {}  # files discovery passed over, by reason and type

    def _use_model(self, supervised: SupervisedModel | None) -> None:
        settings = TaggerSettings()
        self.fingerprint = fingerprint(self.catalogs, settings, supervised)  # of what cached scores depend on
        self.scorer = Scorer(tuple(self.catalogs), settings, supervised, self.fingerprint)

    @property
    def tagger(self) -> Tagger:
        """The classifier that scores documents, built on first use (one per fingerprint)."""
        return self.scorer.tagger()

    @property
    def warnings(self) -> tuple[str, ...]:
        """Folders not listed or followed, and files not read, each with its reason."""
        return self.folder_warnings + tuple(str(Refusal(p, self.refused[p])) for p in sorted(self.refused))

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def sync(self) -> ScanStats:
        """Bring every document up to date with the disk: only new and changed files are read."""
        started = time.monotonic()
        with collection_paused():  # a candidate for every file, each held to the end of the scan
            found = discover(self.root, include=self.config.include, exclude=self.config.exclude,
                             all_files=self.config.all_files, skip=self.skip, confined=self.confined,
                             seen=lambda files: self.notify("discover", files, 0))
        self.git = found.git
        self.commit_dates = found.commit_dates
        self.folder_warnings = found.warnings
        self.refused = {refusal.path: refusal.reason for refusal in found.refused}
        self.not_read = found.not_read
        self.notify("discover", len(found.candidates), len(found.candidates))
        present = {c.path for c in found.candidates}
        removed = [p for p in self.results if p not in present]
        for path in removed:
            self._forget(path)
        self.index.forget_missing(present)
        changed = [c for c in found.candidates if not self._unchanged(c)]
        extracted = self._process(changed)
        if self.config.labels is not None:
            self._use_labels(self.config.labels)
        return ScanStats(len(found.candidates), extracted, len(found.candidates) - extracted, len(removed),
                         time.monotonic() - started)

    def update(self, paths: Iterable[str]) -> ScanStats:
        """Re-examine some paths (relative to the root) after filesystem events: a changed file is
        read again, a vanished or excluded one stops counting as evidence."""
        started = time.monotonic()
        paths = set(paths)
        paths |= {p for p, r in self.results.items() if isinstance(r, Extract) and paths.intersection(r.includes)}
        tracked = None
        if self.git:
            listing = git_tracked(self.root)
            tracked = set(listing) if listing else None  # as discover: nothing tracked -> read it all
        candidates, removed = [], 0
        for path in sorted(paths):
            fmt = self.filter.format_for(path)
            found = None
            if fmt is not None and (tracked is None or path in tracked) and self.root / path not in self._skipped:
                found = inspect(self.root, path, fmt, self.confined)
            if isinstance(found, Refusal):
                self.refused[path] = found.reason
            else:
                self.refused.pop(path, None)
            if not isinstance(found, Candidate):
                if path in self.results:
                    self._forget(path)
                    self.index.forget(path)
                    removed += 1
            elif not self._unchanged(found):
                candidates.append(found)
        extracted = self._process(candidates)
        return ScanStats(len(self.results), extracted, 0, removed, time.monotonic() - started)

    def _use_labels(self, labels: Path) -> None:
        """Switch to the model trained from the user's labels (training it when they changed) and
        score every document again with it."""
        from gapscan.classifiers.models import model_from_labels  # noqa: PLC0415  (scikit-learn: see default_model)
        from gapscan.classifiers.supervised import ModelError  # noqa: PLC0415

        extracts = {p: r for p, r in self.results.items() if isinstance(r, Extract)}
        try:
            model, _ = model_from_labels(labels, extracts, self.catalogs)
        except (LabelsError, ModelError, ValueError) as exc:
            raise ConfigError(f"labels {labels}: {exc}") from exc
        if model.info["training_hash"] == self.labels_hash:
            return
        self.labels_hash = model.info["training_hash"]
        self._use_model(model)
        self._score_all(list(extracts.values()))

    def _unchanged(self, candidate: Candidate) -> bool:
        known = self.results.get(candidate.path)
        if isinstance(known, Extract) and known.includes:
            return False  # a file it includes may have changed
        return known is not None and known.document.size == candidate.size and known.document.mtime == candidate.mtime

    def _forget(self, path: str) -> None:
        self.results.pop(path, None)
        self._drop_scores(path)

    def _process(self, candidates: list[Candidate]) -> int:
        """Read (or take from the index) and classify these candidates; returns how many were parsed.

        The main process opens no document: the workers read each file once, hash those bytes and
        parse the same bytes, so an extract is cached under the hash of exactly what it came from."""
        limits = self.config.limits
        timeout = timed_out(limits)
        todo: list[Document] = []
        ready: list[ExtractResult] = []
        documents = [Document(candidate.path, candidate.format, candidate.size, candidate.mtime)
                     for candidate in candidates]
        with collection_paused():  # every unchanged document, held to the end of the scan
            known = self.index.cached_unchanged(documents, EXTRACTOR_VERSION)
        for candidate, document in zip(candidates, documents, strict=True):
            cached = known.get(candidate.path)
            if cached is not None:
                ready.append(cached)
            elif self.index.known_failure(candidate.path, candidate.size, candidate.mtime) == timeout:
                ready.append(Unreadable(document, timeout))  # unchanged since it timed out under this limit
            elif candidate.size > limits.max_file_bytes:  # never read
                ready.append(Unreadable(document, too_large(candidate.size, limits)))
            else:
                todo.append(document)

        fresh: list[ExtractResult] = []
        hashed: list[Document] = []
        scored: list[tuple[str, str, bytes]] = []
        held_chars = 0  # of text in ``fresh``
        done = 0
        inside = str(self.root) if self.confined else None
        scorer = self.scorer
        tick = lambda: self.notify("extract", done, len(todo))  # noqa: E731
        jobs = _Jobs(self.root, todo)
        results: Iterator[ExtractResult | Known | Scored]
        if self.cluster:
            results = extract_on_cluster(jobs, limits, self.cluster, inside=inside, scorer=scorer, tick=tick)
        else:
            results = extract_all(jobs, limits, self.jobs, inside=inside, tick=tick, scorer=scorer,
                                  known=KnownContent(self.index.path, EXTRACTOR_VERSION))
        for done, result in enumerate(results, 1):
            if isinstance(result, Known):  # renamed or copied: its content is in the index
                hashed.append(result.document)
                cached = self.index.cached(result.document, EXTRACTOR_VERSION)
                ready.append(cached or Unreadable(result.document, "cannot read: the index changed during the scan"))
            elif isinstance(result, Scored):
                fresh.append(result.extract)
                scored.append((result.extract.document.path, result.extract.document.sha256, result.scores))
                held_chars += _text_chars(result.extract)
            else:
                fresh.append(result)
                held_chars += _text_chars(result)
            if len(fresh) >= _STORE_BATCH or held_chars >= _STORE_BATCH_CHARS:
                ready += self._keep(fresh, scored)
                fresh, scored, held_chars = [], [], 0
            self.notify("extract", done, len(todo))
        ready += self._keep(fresh, scored)
        self.index.record_files(hashed)

        # The workers are gone (see collection_paused); scoring makes next to no cycles (2 objects
        # unreachable after scoring 40 documents of the generated corpus). The scores of what they
        # read are taken from the index only now: held while they ran, a collection's scores would
        # add to their memory.
        with collection_paused():
            self._score_all(ready)
        return len(todo) - len(hashed)

    def _keep(self, fresh: list[ExtractResult], scored: list[tuple[str, str, bytes]]) -> list[ExtractResult]:
        """Store freshly read documents and their scores in the index; returns them without their
        text, for their scores to be taken from the index (or computed, where their worker did not
        score them) once every document is read."""
        held = self.index.store(fresh, EXTRACTOR_VERSION)
        self.index.record_files([r.document for r in fresh if r.document.sha256])
        timeout = timed_out(self.config.limits)
        self.index.record_failures([r for r in fresh if isinstance(r, Unreadable) and r.reason == timeout])
        # An extract that includes other files is read again each scan, and so scored again: neither
        # it nor its scores are stored, and it is held with them now.
        includes = {r.document.path for r in fresh if isinstance(r, Extract) and r.includes}
        self.index.store_scores([row for row in scored if row[0] not in includes], self.fingerprint)
        from_workers = {path: value for path, _, value in scored if path in includes}
        for result in held:
            if result.document.path in from_workers:
                self.results[result.document.path] = result
                self._keep_scores(result, from_workers[result.document.path])
        return [result for result in held if result.document.path not in from_workers]

    def _score_all(self, results: list[ExtractResult]) -> None:
        """Hold these results and their scores: taken from the index where it has them under the
        current fingerprint, else computed (from the text in the index), stored, and taken from
        the index once computed: held while the workers score, a collection's scores would add to
        their memory."""
        self.index.use_fingerprint(self.fingerprint)
        unscored = self._hold(results)
        self._score(unscored)
        left = self._hold([result for result in unscored if isinstance(result, StoredExtract)])
        assert not left, f"scores stored and not found: {[r.document.path for r in left[:3]]}"

    def _hold(self, results: list[ExtractResult]) -> list[Extract]:
        """Hold these results, and the scores the index has for them; returns those it has none for."""
        unscored: list[Extract] = []
        for first in range(0, len(results), _STORE_BATCH):  # the stored scores of a batch in one query
            batch = results[first:first + _STORE_BATCH]
            known = self.index.cached_scores_of(
                [(r.document.path, r.document.sha256) for r in batch if isinstance(r, StoredExtract)], self.fingerprint)
            for result in batch:
                path = result.document.path
                self.results[path] = result
                stored = known.get((path, result.document.sha256))
                if not self._readers(result):
                    self._drop_scores(path)
                elif stored is not None:
                    self._keep_scores(result, stored)
                else:
                    assert isinstance(result, Extract)  # an unreadable document has no readers
                    unscored.append(result)
        return unscored

    def _score(self, extracts: list[Extract]) -> None:
        """Score these extracts, in worker processes when there are many (a new model or catalog
        scores every document again), and store the scores of those the index holds; only the
        others' are held here."""
        computed: list[tuple[str, str, bytes]] = []
        done = 0
        tick = lambda: self.notify("classify", done, len(extracts))  # noqa: E731
        scored: Iterable[Scored | Extract] = extracts
        if len(extracts) >= _SCORED_IN_WORKERS and self.jobs > 1:
            scored = score_all(extracts, self.scorer, self.config.limits, self.jobs, tick)
        for done, result in enumerate(scored, 1):
            extract, stored = (result.extract, result.scores) if isinstance(result, Scored) else (result, None)
            if stored is None:
                stored = stored_scores(self.tagger.score(extract))
            if isinstance(extract, StoredExtract):
                computed.append((extract.document.path, extract.document.sha256, stored))
            else:  # its text depends on other files (see Index.store): neither it nor its scores are stored
                self._keep_scores(extract, stored)
            if len(computed) >= _STORE_BATCH:
                self.index.store_scores(computed, self.fingerprint)
                computed = []
            self.notify("classify", done, len(extracts))
        self.index.store_scores(computed, self.fingerprint)

    def restore_index(self) -> str | None:
        """When the index file was deleted or replaced while open, open the file at its path anew
        and store everything known in it again, so that nothing is lost at the next start; returns
        what had happened (None when nothing had). Raises IndexUnusable."""
        lost = self.index.lost()
        if lost is None:
            return None
        lost_index, self.index = self.index, Index(self.index.path)
        results = list(self.results.values())
        for first in range(0, len(results), _STORE_BATCH):  # the text moves over from the lost file a batch at a time
            batch = [r.loaded() if isinstance(r, StoredExtract) else r for r in results[first:first + _STORE_BATCH]]
            for result in self.index.store(batch, EXTRACTOR_VERSION):
                self.results[result.document.path] = result
            self.index.record_files([r.document for r in batch if r.document.sha256])
        lost_index.close()
        return lost

    def _keep_scores(self, result: ExtractResult, stored: bytes) -> None:
        """A document's scores (as stored) for the frameworks whose catalogs read its language; one
        that no catalog reads (or that could not be read) is not part of the assessed collection."""
        readers = frozenset(catalog.id for catalog in self._readers(result))
        if not readers:
            self._drop_scores(result.document.path)
            return
        self._scores_changed()
        self.scores.hold(result.document.path, stored, readers)

    def _drop_scores(self, path: str) -> None:
        self.scores.pop(path, None)
        self._scores_changed()

    def _scores_changed(self) -> None:
        """The collection is decided again when next asked."""
        self._classified = self._decision = None

    def _readers(self, result: ExtractResult) -> list[Catalog]:
        if not isinstance(result, Extract):
            return []
        return [catalog for catalog, _ in self.catalogs if catalog.reads(result.language)]

    def report(self, today: date | None = None) -> GapReport:
        """Assess every framework on the current evidence."""
        results = [self.results[p] for p in sorted(self.results)]
        decision = self.decision()
        today = today or date.today()
        dates = {r.document.path: _content_date(r, self.commit_dates, today) for r in results}
        results, evidence, dates, kinds = _displayable(results, decision.evidence, dates, decision.kinds)
        inputs = AssessmentInputs(dates, {path: kind.kind for path, kind in kinds.items()}, today)
        in_scope = {catalog.id for catalog, _ in self.catalogs}
        frameworks = tuple(
            _with_languages(assess(
                catalog,
                level,
                evidence,
                inputs,
                not_applicable=self.config.not_applicable.get(catalog.id),
                max_age_days=self.config.max_age_days.get(catalog.id),
                crosswalks=bundled_crosswalks(),
                frameworks_in_scope=in_scope,
            ), catalog, results)
            for catalog, level in self.catalogs
        )
        return GapReport(
            tool_version=tool_version(),
            generated_at=now_stamp(),
            root=display_path(str(self.root)),
            frameworks=frameworks,
            documents=_document_entries(results, evidence, dates, kinds, [catalog for catalog, _ in self.catalogs]),
            warnings=self.warnings,
            not_read=_not_read(self.not_read, results),
        )

    def record(self, report: GapReport) -> GapReport:
        """Keep this scan's coverage in the index's history; returns the report with that history
        (past scans, oldest first, this one last) for the HTML's coverage trend."""
        self.index.record_scan(
            report.generated_at,
            report.summary["documents"],
            report.summary["readable"],
            {f.id: f.coverage for f in report.frameworks},
        )
        return replace(report, history=self.history())

    def history(self, limit: int = 50) -> tuple[HistoryPoint, ...]:
        """The last ``limit`` scans of this root recorded in the index, oldest first."""
        return tuple(
            HistoryPoint(
                finished=str(row["finished"]),
                documents=int(row["documents"]),
                readable=int(row["readable"]),
                coverage=tuple(sorted((str(k), float(v)) for k, v in dict(row["coverage"]).items())),
            )
            for row in self.index.history(limit)
        )

    def classified(self) -> list[Classified]:
        """Every readable document's kind and evidence, decided over the whole collection."""
        if self._classified is None:  # the report and the evidence of one scan weigh the collection once
            self._classified = self.decider.decide([self.scores[p] for p in sorted(self.scores)])
        return self._classified

    def reported_evidence(self) -> list[Evidence]:
        """The decided candidates a report weighs: every tag, and the near misses it can list."""
        return self.decision().evidence

    def decision(self) -> Decision:
        """Each readable document's kind and the evidence a report weighs, decided over the whole
        collection; taken from the index where the collection is the one last decided there."""
        if self._decision is None:
            key = self._decision_key()
            stored = self.index.decision(key) if key else None
            self._decision = decision_from_stored(stored) if stored else None
            if self._decision is None:
                classified = self.classified()
                self._decision = Decision({c.path: c.kind for c in classified}, reported(classified, MAX_NEAR_MISSES))
                if key:
                    self.index.store_decision(key, stored_decision(self._decision))
        return self._decision

    def _decision_key(self) -> str | None:
        """The key of the collection's decision in the index; None where a document's scores
        depend on other files too (a LaTeX \\input: see Index.store), which its key cannot name."""
        documents = []
        for path in sorted(self.scores):
            result = self.results.get(path)
            if not isinstance(result, StoredExtract):
                return None
            documents.append((path, result.document.sha256))
        return decision_key(self.fingerprint, documents, MAX_NEAR_MISSES)


def scan(
    root: Path,
    config: Config,
    *,
    index_path: Path | None = None,
    jobs: int | None = None,
    skip: tuple[Path, ...] = (),
    progress: Progress | None = None,
    today: date | None = None,
    executor: str | None = None,
) -> ScanResult:
    """A one-off scan: sync with the disk, assess, and record the scan in the index's history."""
    started = time.monotonic()
    with Scanner(root, config, index_path=index_path, jobs=jobs, skip=skip, progress=progress,
                 executor=executor) as scanner:
        stats = scanner.sync()
        stop_worker_server()  # nothing more is read: its memory is not held through the report
        with collection_paused():
            report = scanner.report(today)
            report = scanner.record(report)
            evidence = tuple(scanner.reported_evidence())
    return ScanResult(report, replace(stats, seconds=time.monotonic() - started), evidence)


class _Jobs:
    """Documents to read, each with its path on disk, made as the workers take it: a path object
    for every file of a large scan, held to its end, would cost more than the document. Sized, so
    that the pool knows how many there are (see extract_all)."""

    def __init__(self, root: Path, documents: list[Document]):
        self.root, self.documents = root, documents

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self) -> Iterator[tuple[Path, Document]]:
        return ((self.root / document.path, document) for document in self.documents)


def _text_chars(result: ExtractResult) -> int:
    return sum(len(section.text) for section in result.sections) if isinstance(result, Extract) else 0


def _displayable(results, evidence, dates, kinds):
    """Paths as reports show them (see ``display_path``): a file name that is not valid UTF-8, or
    that holds control characters, is written with escapes. The index keeps the real path."""
    if all(display_path(r.document.path) == r.document.path for r in results):
        return results, evidence, dates, kinds
    results = [replace(r, document=replace(r.document, path=display_path(r.document.path))) for r in results]
    evidence = [replace(e, path=display_path(e.path)) for e in evidence]
    dates = {display_path(path): value for path, value in dates.items()}
    kinds = {display_path(path): value for path, value in kinds.items()}
    return results, evidence, dates, kinds


def _content_date(result: ExtractResult, commit_dates: dict[str, str], today: date) -> str:
    """When the document's content dates from: its own metadata, a date written in it, its last
    commit (a fresh CI clone makes every mtime "now"), then its modification time. Dates after
    today ("Next review: 2031-03-01") say when it is due, not when it was written."""
    if isinstance(result, Extract):
        metadata = result.metadata
        if metadata.modified or metadata.created:
            return (metadata.modified or metadata.created)[:10]
        past = [d[:10] for d in metadata.dates_in_text if d[:10] <= today.isoformat()]
        if past:
            return max(past)
    path = result.document.path
    if path in commit_dates:
        return commit_dates[path]
    return datetime.fromtimestamp(result.document.mtime, UTC).date().isoformat()


def _with_languages(framework: FrameworkResult, catalog: Catalog, results: list[ExtractResult]) -> FrameworkResult:
    """The framework's result with the languages its catalog reads and the documents it could not."""
    unread = Counter(r.language for r in results if isinstance(r, Extract) and not catalog.reads(r.language))
    return replace(framework, languages=tuple(in_order(catalog.languages)), not_assessed=tuple(sorted(unread.items())))


def _not_read(passed_over: dict[str, Counter[str]], results: list[ExtractResult]) -> NotRead:
    """Files discovery passed over, and documents refused for their size, counted by type."""
    too_large = Counter(
        file_type(r.document.path) for r in results if isinstance(r, Unreadable) and r.reason.startswith(TOO_LARGE)
    )
    return NotRead(
        unsupported=tuple(sorted(passed_over.get(UNSUPPORTED, Counter()).items())),
        excluded=tuple(sorted(passed_over.get(EXCLUDED, Counter()).items())),
        too_large=tuple(sorted(too_large.items())),
    )


def _document_entries(results, evidence: list[Evidence], dates, kinds,
                      catalogs: list[Catalog]) -> tuple[DocumentEntry, ...]:
    tags: dict[str, list[Tag]] = {}
    for item in evidence:
        if item.tag:
            tags.setdefault(item.path, []).append(Tag(item.framework, item.requirement, item.score))
    entries = []
    for result in results:
        document = result.document
        language, assessed = "", True
        if isinstance(result, Extract):
            status, title, language = "ok", result.metadata.title, result.language
            reason = not_assessed(language, catalogs)
            assessed = reason is None
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
                kind=kinds[document.path].kind if document.path in kinds else "",
                kind_signals=kinds[document.path].signals if document.path in kinds else (),
                tags=tuple(sorted(tags.get(document.path, []), key=lambda t: (t.framework, -t.score))),
                language=language,
                assessed=assessed,
            )
        )
    return tuple(entries)


def not_assessed(language: str, catalogs: list[Catalog]) -> str | None:
    """Why a document written in ``language`` is not assessed (no catalog reads it), or None."""
    if any(catalog.reads(language) for catalog in catalogs):
        return None
    return f"written in {language_name(language)} ({language}); the catalogs read {names(_catalog_languages(catalogs))}"


def _catalog_languages(catalogs: list[Catalog]) -> list[str]:
    return in_order(code for catalog in catalogs for code in catalog.languages)
