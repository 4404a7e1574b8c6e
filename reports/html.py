"""The HTML report: one self-contained page rendered from a :class:`GapReport`.

The page is built by a Jinja2 template with autoescaping on for everything, so paths, titles,
terms and reasons that came from documents are always escaped. Python only prepares data for
the template (groups, figures, links); it never builds HTML. No I/O happens here apart from
Jinja reading its templates.

Users can override the template datasette-style: pass ``template_dir`` and a ``report.html.j2``
found there is used instead of the bundled one. An override can also extend the bundled page
and replace single blocks with ``{% extends "default:report.html.j2" %}``.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.bccache
import markupsafe

from gapscan.mappings import EVIDENCE_KINDS
from gapscan.scanner.common.languages import names
from gapscan.reports.actions import action_plan
from gapscan.reports.gate import Publication, Waiver, gate_failures
from gapscan.reports.inert import document_href
from gapscan.reports.model import FrameworkResult, GapReport, Verdict
from gapscan.scanner.common.clock import parse_timestamp, timestamp_text
from gapscan.scanner.common.status import STATUSES, Status

TEMPLATE_NAME = "report.html.j2"

STATUS_LABELS = {
    "covered": "Covered",
    "partial": "Partial",
    "missing": "Missing",
    "not_applicable": "Not applicable",
}
# A shape for each status so that colour is never the only signal.
STATUS_SYMBOLS = {
    "covered": "\u2713",  # check mark
    "partial": "\u25d0",  # half-filled circle
    "missing": "\u2715",  # multiplication x
    "not_applicable": "\u2013",  # en dash
}
# The kinds shown as a label under a requirement's title; "none" is the quiet default.
LABELLED_KINDS = {kind: label for kind, (label, _) in EVIDENCE_KINDS.items() if kind != "none"}
SHOWN_ACTIONS = 10  # the rest of the action plan is folded away
SHOWN_EVIDENCE = 3  # documents listed in a requirement's row; the rest are in its details
DOCUMENT_STATUS_LABELS = {"ok": "Read", "unreadable": "Unreadable", "skipped": "Skipped"}

# The donut is a circle whose circumference is 100 user units, so lengths are percentages.
_DONUT_RADIUS = 15.91549430918954


@dataclass(frozen=True)
class Segment:
    """One arc of a coverage donut (and one part of the stacked bar), in percent of the whole."""

    status: str
    count: int
    length: float
    offset: float


@dataclass(frozen=True)
class Group:
    """Requirements sharing a parent: an ISO clause or a CMMI practice area."""

    parent: str
    title: str
    verdicts: tuple[Verdict, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class TrendSeries:
    """One framework's line in the coverage trend: polyline segments (a scan without the framework
    breaks the line) and a dot per scan, each with its tooltip."""

    framework: str
    label: str
    index: int  # picks the line's dash pattern and colour
    segments: tuple[str, ...]  # SVG points attributes
    dots: tuple[tuple[float, float, str], ...]  # x, y, tooltip
    first: float
    last: float


@dataclass(frozen=True)
class TrendView:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[TrendSeries, ...]
    scans: int
    first_day: str
    last_day: str


@dataclass(frozen=True)
class MapRow:
    """One line of a framework map: a section (ISO clause, CMMI practice area) and its requirements,
    one cell per column (a clause map has one column, a practice-area matrix one per level)."""

    section: str
    title: str
    cells: tuple[tuple[Verdict, ...], ...]


@dataclass(frozen=True)
class FrameworkMap:
    anchor: str
    heading: str
    columns: tuple[str, ...]  # column headings of a matrix; empty for a clause map
    rows: tuple[MapRow, ...]


@dataclass(frozen=True)
class FrameworkView:
    result: FrameworkResult
    anchor: str
    heading: str
    short_name: str
    groups: tuple[Group, ...]
    segments: tuple[Segment, ...]
    applicable: int
    gaps: int  # missing + partial
    map: FrameworkMap
    delta: float | None = None  # coverage points since the baseline
    new_gaps: int = 0  # since the baseline
    resolved: int = 0


def render_html(
    report: GapReport,
    *,
    link_base: str = "",
    template_dir: Path | str | None = None,
    publication: Publication | None = None,
) -> str:
    """Render ``report`` as one self-contained HTML page and return it.

    ``link_base`` is prepended to every document href (for example ``"../docs/"`` when the report
    is written next to, not inside, the scanned tree, or the web address the documents are
    published at); with the default ``""`` hrefs are the documents' paths relative to the scanned
    root. ``publication`` adds the CI view: gate verdict, changes since the baseline, waivers.
    ``template_dir`` is searched for ``report.html.j2`` before the bundled template.
    """
    return "".join(html_pieces(report, link_base=link_base, template_dir=template_dir, publication=publication))


def html_pieces(
    report: GapReport,
    *,
    link_base: str = "",
    template_dir: Path | str | None = None,
    publication: Publication | None = None,
) -> Iterator[str]:
    """The page :func:`render_html` returns, a piece at a time as the template makes it."""
    env = _environment(os.path.abspath(template_dir) if template_dir is not None else None)
    template = env.get_template(TEMPLATE_NAME)
    return template.generate(**_context(report, link_base, publication or Publication()))


# -- environment -------------------------------------------------------------------------------


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled once and kept between runs, in Jinja's own folder for this user (in the
    temporary folder, private to the user, each entry checked against its template's source).
    Compiling the report's templates costs more than rendering them; a cache that cannot be read or
    written costs only that."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates()
    except (OSError, RuntimeError):  # no private folder for it: compile each time
        return None


@functools.lru_cache(maxsize=8)
def _environment(template_dir: str | None) -> jinja2.Environment:
    bundled = jinja2.PackageLoader("gapscan.reports", "templates")
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(bundled)
    # "default:report.html.j2" always names the bundled template, so an override can extend it.
    loaders.append(jinja2.PrefixLoader({"default": bundled}, delimiter=":"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
        bytecode_cache=_compiled_templates(),
    )
    env.filters.update(
        percent=format_percent,
        score=format_score,
        filesize=format_size,
        day=format_day,
        timestamp=format_timestamp,
        slug=slug,
        href=_href_filter,
        csp_hash=csp_hash,
        fmt_num=_format_number,
        bar_width=_bar_width,
        tile_label=tile_label,
        signed=_signed,
        languages=names,
    )
    env.globals.update(
        STATUSES=STATUSES,
        status_labels=STATUS_LABELS,
        status_symbols=STATUS_SYMBOLS,
        evidence_kinds=LABELLED_KINDS,
        kind_legend=EVIDENCE_KINDS,
        shown_actions=SHOWN_ACTIONS,
        shown_evidence=SHOWN_EVIDENCE,
        document_status_labels=DOCUMENT_STATUS_LABELS,
        donut_radius=_DONUT_RADIUS,
        doc_link=_doc_link,
        req_anchor=req_anchor,
    )
    return env


def _context(report: GapReport, link_base: str, publication: Publication) -> dict:
    views = tuple(_framework_view(fw, publication) for fw in report.frameworks)
    short_names = {view.result.id: view.short_name for view in views}
    titles = {view.result.id: view.heading for view in views}
    index = {
        (fw.id, verdict.id): verdict for fw in report.frameworks for verdict in fw.verdicts
    }
    problems = tuple(d for d in report.documents if d.status != "ok")
    actions = action_plan(report)
    return {
        "report": report,
        "summary": report.summary,
        "frameworks": views,
        "framework_short_names": short_names,
        "framework_titles": titles,
        "requirement_index": index,
        "problem_documents": problems,
        "documents": tuple(sorted(report.documents, key=lambda d: d.path)),
        "total_requirements": sum(len(fw.verdicts) for fw in report.frameworks),
        "link_base": link_base,
        "trend": _trend(report, {view.result.id: view.short_name for view in views}),
        "actions": actions,
        "action_of": {(gap.framework, gap.requirement): action for action in actions for gap in action.closes},
        "publication": publication,
        "gate_failures": gate_failures(report, publication) if publication.gated else [],
        "waived": _waived(publication),
    }


def _waived(publication: Publication) -> tuple[tuple[Waiver, tuple[tuple[str, str], ...]], ...]:
    """Each waiver in force with the gaps it waives (a waiver for a practice area waives several)."""
    gaps: dict[Waiver, list[tuple[str, str]]] = {}
    for framework, requirement, waiver in publication.waivers.applied:
        gaps.setdefault(waiver, []).append((framework, requirement))
    return tuple((waiver, tuple(items)) for waiver, items in gaps.items())


def _trend(report: GapReport, labels: dict[str, str]) -> TrendView | None:
    """The coverage trend over the scans in ``report.history`` (two or more), one line per framework
    of this report; x is the scan's position (scans are evenly spaced), y the coverage."""
    history = report.history
    if len(history) < 2 or not report.frameworks:
        return None
    width, height, left, right, top, bottom = 640, 190, 44, 628, 12, 160
    step = (right - left) / (len(history) - 1)

    def y_of(value: float) -> float:
        return round(bottom - min(max(value, 0.0), 1.0) * (bottom - top), 2)

    series = []
    for index, framework in enumerate(report.frameworks):
        segments: list[list[str]] = []
        current: list[str] = []
        dots: list[tuple[float, float, str]] = []
        values: list[float] = []
        for position, point in enumerate(history):
            value = point.coverage_of(framework.id)
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x, y = round(left + position * step, 2), y_of(value)
            current.append(f"{_format_number(x)},{_format_number(y)}")
            dots.append((x, y, f"{format_timestamp(point.finished)}: {format_percent(value)}"))
            values.append(value)
        if current:
            segments.append(current)
        if not values:
            continue
        series.append(
            TrendSeries(
                framework=framework.id,
                label=labels.get(framework.id, framework.id),
                index=index % 4,
                segments=tuple(" ".join(seg) for seg in segments),
                dots=tuple(dots),
                first=values[0],
                last=values[-1],
            )
        )
    if not series:
        return None
    return TrendView(width, height, left, right, top, bottom, tuple(series), len(history),
                     format_day(history[0].finished), format_day(history[-1].finished))


def _framework_view(fw: FrameworkResult, publication: Publication) -> FrameworkView:
    counts = fw.counts
    applicable = len(fw.verdicts) - counts["not_applicable"]
    heading = fw.title or fw.id
    if fw.level is not None:
        heading = f"{heading} at target maturity level {fw.level}"
    groups = _groups(fw.verdicts)
    diff = publication.diff
    before = diff.coverage_of(fw.id) if diff is not None else None
    return FrameworkView(
        result=fw,
        anchor="fw-" + slug(fw.id),
        heading=heading,
        short_name=fw.short_name,
        groups=groups,
        segments=_segments(counts, applicable),
        applicable=applicable,
        gaps=counts["missing"] + counts["partial"],
        map=_map(fw, groups),
        delta=None if before is None else round((fw.coverage - before) * 100, 1),
        new_gaps=sum(1 for c in diff.new_gaps if c.framework == fw.id) if diff is not None else 0,
        resolved=sum(1 for c in diff.resolved if c.framework == fw.id) if diff is not None else 0,
    )


def _map(fw: FrameworkResult, groups: tuple[Group, ...]) -> FrameworkMap:
    """A clause map (one line per section, a tile per requirement) or, for a framework with
    levels, a matrix of sections by level."""
    anchor = "map-" + slug(fw.id)
    levels = sorted({v.level for v in fw.verdicts if v.level is not None})
    if not levels:
        rows = tuple(MapRow(g.parent, g.title, (g.verdicts,)) for g in groups)
        return FrameworkMap(anchor, f"{fw.short_name} clause map", (), rows)
    columns: list[int | None] = list(levels) + ([None] if any(v.level is None for v in fw.verdicts) else [])
    rows = tuple(
        MapRow(g.parent, g.title, tuple(tuple(v for v in g.verdicts if v.level == level) for level in columns))
        for g in groups
    )
    headings = tuple("Other" if level is None else f"Level {level}" for level in columns)
    return FrameworkMap(anchor, f"{fw.short_name} practice areas by level", headings, rows)


def _groups(verdicts: tuple[Verdict, ...]) -> tuple[Group, ...]:
    """Group by top-level section (ISO clause 8, CMMI practice area), in requirement order: 8.1,
    8.2.1 … 8.5.6, 8.6 and 8.7 all sit under 8, in that order."""
    members: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        members.setdefault(verdict.section or verdict.parent, []).append(verdict)
    groups = []
    for section, items in members.items():
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for verdict in items:
            counts[verdict.status] += 1
        title = next((v.section_title or v.parent_title for v in items if v.section_title or v.parent == section), "")
        groups.append(Group(parent=section, title=title, verdicts=tuple(items), counts=counts))
    return tuple(groups)


def _segments(counts: dict[str, int], applicable: int) -> tuple[Segment, ...]:
    """Arcs for covered, partial and missing over the applicable requirements."""
    if applicable <= 0:
        return ()
    segments = []
    offset = 0.0
    for status in (Status.COVERED, Status.PARTIAL, Status.MISSING):
        count = counts[status]
        if not count:
            continue
        length = 100.0 * count / applicable
        segments.append(Segment(status, count, round(length, 3), round(offset, 3)))
        offset += length
    return tuple(segments)


# -- formatters (all return strings) -------------------------------------------------------------


def format_percent(value: float) -> str:
    """0.725 -> "72.5%"; whole numbers lose the decimal: 1.0 -> "100%"."""
    pct = round(float(value) * 100, 1)
    if pct == int(pct):
        return f"{int(pct)}%"
    return f"{pct:.1f}%"


def format_score(value: float) -> str:
    return f"{float(value):.2f}"


def format_size(size: int) -> str:
    size = int(size)
    if size < 1024:
        return f"{size} B"
    amount = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        amount /= 1024
        if amount < 1000 or unit == "TB":
            return f"{amount:.0f} {unit}" if amount >= 100 else f"{amount:.1f} {unit}"
    return f"{size} B"  # pragma: no cover


def format_day(value: str) -> str:
    """The calendar day of an ISO date or timestamp; anything else is shown as given."""
    if not value:
        return ""
    moment = parse_timestamp(value)
    return value if moment is None else moment.date().isoformat()


def format_timestamp(value: str) -> str:
    """"2024-05-02T14:03:11+00:00" -> "2024-05-02 14:03 UTC"; unparsable values as given."""
    if not value:
        return ""
    moment = parse_timestamp(value)
    return value if moment is None else timestamp_text(moment)


def tile_label(verdict: Verdict) -> str:
    """A requirement's id without its section where the map's line already says it: "2.1" on the
    PQA line, "8.2.1" on the ISO clause 8 line."""
    section = verdict.section or verdict.parent
    prefix = f"{section} "
    return verdict.id[len(prefix):] if section and verdict.id.startswith(prefix) else verdict.id


def slug(value: str) -> str:
    """A value usable in an id attribute and a fragment: "PQA 2.1" -> "PQA-2.1"."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-") or "x"


@jinja2.pass_context
def _doc_link(context: jinja2.runtime.Context, path: str) -> markupsafe.Markup:
    """A document's path as a link to it (a function, not a macro: the documents table calls it
    once per document, and a macro call costs ten times as much)."""
    href = markupsafe.escape(document_href(path, context.get("link_base", "")))
    return markupsafe.Markup(f'<a class="path" href="{href}">{markupsafe.escape(path)}</a>')


def req_anchor(framework_id: str, requirement_id: str) -> str:
    """The id of a requirement's row: "req-iso9001-2015-8.2.1"."""
    return f"req-{slug(framework_id)}-{slug(requirement_id)}"


@jinja2.pass_context
def _href_filter(context: jinja2.runtime.Context, path: str) -> str:
    return document_href(path, context.get("link_base", ""))


def csp_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(str(script).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _bar_width(score: float) -> str:
    """A score in [0, 1] as a CSS percentage, clamped so odd inputs cannot break the layout."""
    return _format_number(min(max(float(score), 0.0), 1.0) * 100) + "%"


def _signed(points: float) -> str:
    """A change in percentage points: "+5 pts", "−2.5 pts", "no change"."""
    if not points:
        return "no change"
    return ("+" if points > 0 else "\u2212") + _format_number(abs(points)) + " pts"


def _format_number(value: float) -> str:
    return f"{float(value):.3f}".rstrip("0").rstrip(".")


__all__ = [
    "TEMPLATE_NAME",
    "document_href",
    "format_day",
    "format_percent",
    "format_score",
    "format_size",
    "format_timestamp",
    "render_html",
    "slug",
]
