"""``report.md``: a summary for a CI job page or a pull-request comment.

Coverage per framework, the gate's verdict, what changed against the baseline, waivers, the first
steps of the action plan, the gaps of each framework and the unreadable documents, in that order of
importance. With ``--link-base`` document paths link to where the documents are published. The page stays under
:data:`MAX_CHARS` characters whatever the corpus (GitHub refuses comments over 65,536): past that
budget the rest is left out and a note says how much and where to find it.

Everything that came from a document or a file name goes through :mod:`gapscan.reports.inert`: it
renders as text, never as HTML, a link, an image or a mention.
"""

from __future__ import annotations


from gapscan.reports.actions import Action, action_plan
from gapscan.reports.gate import BaselineDiff, Publication, StatusChange, gate_failures
from gapscan.reports.inert import document_href, md_code, md_text
from gapscan.reports.model import FrameworkResult, GapReport, Verdict
from gapscan.scanner.common.clock import parse_timestamp, timestamp_text
from gapscan.scanner.common.status import GAP_STATUSES

MAX_CHARS = 60_000
_RESERVE = 1_500  # kept free for the truncation note and closing tags
_SYMBOLS = {"covered": "\u2713", "partial": "\u25d0", "missing": "\u2715", "not_applicable": "\u2013"}
_LABELS = {"covered": "covered", "partial": "partial", "missing": "missing", "not_applicable": "not applicable"}
_CHANGE_ROWS = 100  # at most this many rows in each "changed" table
_ACTIONS = 10  # the first steps of the action plan


class _Page:
    """Lines under a character budget; once a line does not fit, nothing more is added."""

    def __init__(self, limit: int):
        self.lines: list[str] = []
        self.size = 0
        self.limit = limit
        self.full = False
        self.closing: list[str] = []  # what the open block needs to end it, counted in advance

    def add(self, *lines: str) -> bool:
        """Add the lines together, or none of them."""
        needed = sum(len(line) + 1 for line in lines)
        reserved = sum(len(line) + 1 for line in self.closing)
        if self.full or self.size + needed + reserved > self.limit:
            self.full = True
            return False
        self.lines.extend(lines)
        self.size += needed
        return True

    def open(self, lines: tuple[str, ...], closing: tuple[str, ...]) -> bool:
        """Start a block (``<details>``) whose closing lines will always fit."""
        if not self.add(*lines, *closing):
            return False
        del self.lines[len(self.lines) - len(closing):]
        self.closing = list(closing)
        return True

    def close(self) -> None:
        self.lines.extend(self.closing)
        self.closing = []


def _when(value: str) -> str:
    """An ISO timestamp as "2026-11-25 15:00 UTC"; anything else escaped as given."""
    moment = parse_timestamp(value)
    return md_text(value, 40) if moment is None else timestamp_text(moment)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _status(status: str) -> str:
    return f"{_SYMBOLS.get(status, '?')} {_LABELS.get(status, md_text(status, 30))}"


def _framework_name(fw: FrameworkResult) -> str:
    name = md_text(fw.title or fw.id, 80)
    return name + (f" (level {fw.level})" if fw.level else "")


def render_markdown(report: GapReport, publication: Publication | None = None) -> str:
    publication = publication or Publication()
    page = _Page(MAX_CHARS - _RESERVE)
    summary = report.summary
    gaps_total = sum(1 for fw in report.frameworks for v in fw.verdicts if v.status in GAP_STATUSES)

    page.add(
        "## gapscan: evidence gaps",
        "",
        f"Scanned {md_code(report.root, 160, in_table=False)} on {_when(report.generated_at)} with gapscan "
        f"{md_text(report.tool_version, 30)}: {summary['documents']} "
        f"{'document' if summary['documents'] == 1 else 'documents'}, {summary['readable']} read"
        + (f", **{summary['unreadable']} not read**" if summary["unreadable"] else "")
        + ".",
        "",
    )
    if report.language_warning:
        page.add(f"> **\u26a0 Warning:** {md_text(report.language_warning, 400)}", "")
    if report.not_read.total:
        page.add(md_text(report.not_read.sentence(), 600), "")
    _coverage_table(page, report, publication)
    _gate(page, report, publication)
    if publication.diff is not None:
        _changes(page, publication)
    _waivers(page, publication)
    _actions(page, report, publication)

    shown_rows = 0
    for fw in report.frameworks:
        gaps = [v for v in fw.verdicts if v.status in GAP_STATUSES]
        if not gaps:
            continue
        if not page.open(
            (
                f"<details><summary><strong>{_framework_name(fw)}: {len(gaps)} "
                f"{'gap' if len(gaps) == 1 else 'gaps'}</strong></summary>",
                "",
                "| Requirement | Title | Status | Why | Closest documents |",
                "|---|---|---|---|---|",
            ),
            ("", "</details>", ""),
        ):
            break
        for verdict in gaps:
            if not page.add(_gap_row(fw, verdict, publication)):
                break
            shown_rows += 1
        page.close()
        if page.full:
            break
    if not page.full:
        _unreadable(page, report, publication)

    if page.full:
        left = gaps_total - shown_rows
        page.lines.extend([
            "",
            f"> **Truncated** to stay under {MAX_CHARS:,} characters"
            + (f": {left} of {gaps_total} gap rows are not shown" if left > 0 else "")
            + ". The full reports (HTML, JSON, xlsx) list everything.",
        ])
    text = "\n".join(page.lines).rstrip("\n") + "\n"
    assert len(text) < MAX_CHARS
    return text


def _coverage_table(page: _Page, report: GapReport, publication: Publication) -> None:
    if not report.frameworks:
        page.add("No framework was assessed.", "")
        return
    diff = publication.diff
    page.add(
        "| Framework | Coverage | Covered | Partial | Missing | Not applicable |",
        "|---|---:|---:|---:|---:|---:|",
    )
    for fw in report.frameworks:
        counts = fw.counts
        coverage = _pct(fw.coverage)
        before = diff.coverage_of(fw.id) if diff is not None else None
        if before is not None:
            delta = round((fw.coverage - before) * 100)
            sign = "+" if delta >= 0 else "\u2212"
            coverage += f" ({sign}{abs(delta)} pts)" if delta else " (=)"
        note = f" \u26a0 {md_text(fw.not_assessed_note, 200)}" if fw.not_assessed else ""
        page.add(
            f"| {_framework_name(fw)} | **{coverage}**{note} | {counts['covered']} | {counts['partial']} | "
            f"{counts['missing']} | {counts['not_applicable']} |"
        )
    page.add("")


def _gate(page: _Page, report: GapReport, publication: Publication) -> None:
    options = [f"`--fail-on {publication.fail_on}`"] if publication.fail_on != "none" else []
    if publication.fail_under is not None:
        options.append(f"`--fail-under {publication.fail_under:g}`")
    if publication.strict:
        options.append("`--strict`")
    if not options:
        return
    failures = gate_failures(report, publication)
    option = ", ".join(options)
    if failures:
        page.add(f"**\u274c Gate {option} failed:** {md_text('; '.join(failures), 600)}", "")
    else:
        page.add(f"**\u2705 Gate {option} passed.**", "")


def _actions(page: _Page, report: GapReport, publication: Publication) -> None:
    actions = action_plan(report)
    if not actions:
        return
    names = {fw.id: fw.short_name for fw in report.frameworks}
    if not page.add("### Action plan", "",
                    f"{len(actions)} {'action closes' if len(actions) == 1 else 'actions close'} every gap; "
                    "evidence shared across frameworks first, then requirements that need records.", ""):
        return
    for action in actions[:_ACTIONS]:
        if not page.add(_action_line(action, names, publication)):
            return
    if len(actions) > _ACTIONS:
        page.add(f"- \u2026 and {len(actions) - _ACTIONS} more in the HTML, JSON and xlsx reports.")
    page.add("")


def _action_line(action: Action, names: dict[str, str], publication: Publication) -> str:
    def name(framework: str, requirement: str) -> str:
        return f"{md_text(names.get(framework, framework), 40)} {md_code(requirement, 40, in_table=False)}"

    line = (f"{action.rank}. **{name(action.framework, action.requirement)} {md_text(action.title, 120)}** "
            f"({_status(action.status)})")
    if len(action.closes) > 1:
        line += ", also closes " + ", ".join(name(g.framework, g.requirement) for g in action.closes[1:8])
        if len(action.closes) > 8:
            line += f" and {len(action.closes) - 8} more"
    line += f": {md_text(action.step, 400)}"
    if action.start_from is not None:
        line += f" Start from {_document(action.start_from.path, publication, in_table=False)}."
    return line


def _document(path: str, publication: Publication, limit: int = 100, *, in_table: bool = True) -> str:
    """A document's path as code; with ``--link-base``, a link to where it is published."""
    code = md_code(path, limit, in_table=in_table)
    if not publication.link_base:
        return code
    return f"[{code}]({document_href(path, publication.link_base)})"


def _changes(page: _Page, publication: Publication) -> None:
    diff = publication.diff
    assert diff is not None
    page.add(
        f"### Changes since the baseline of {_when(diff.generated_at) or 'unknown date'}",
        "",
        f"**{len(diff.new_gaps)} new {'gap' if len(diff.new_gaps) == 1 else 'gaps'}**, "
        f"{len(diff.resolved)} resolved, {len(diff.improved)} improved, "
        f"{len(diff.shrunk)} with less evidence, {len(diff.disappeared)} "
        f"{'document' if len(diff.disappeared) == 1 else 'documents'} gone.",
        "",
    )
    for note in diff.notes:
        page.add(f"- {md_text(note)}")
    if diff.notes:
        page.add("")
    sections = [
        ("New gaps", diff.new_gaps),
        ("Resolved", diff.resolved),
        ("Improved (missing \u2192 partial)", diff.improved),
    ]
    if _status_changes(page, publication, sections) and _less_evidence(page, diff):
        _gone(page, diff)


def _status_changes(page: _Page, publication: Publication,
                    sections: list[tuple[str, tuple[StatusChange, ...]]]) -> bool:
    """One table per kind of status change; False once the page is full."""
    for heading, changes in sections:
        if not changes:
            continue
        if not page.add(f"**{heading}**", "", "| Framework | Requirement | Title | Was | Now |",
                        "|---|---|---|---|---|"):
            return False
        for change in changes[:_CHANGE_ROWS]:
            waiver = publication.waiver_for(change.framework, change.requirement) if heading == "New gaps" else None
            now = _status(change.after) + (f" (waived until {waiver.expires.isoformat()})" if waiver else "")
            if not page.add(
                f"| {md_code(change.framework, 40)} | {md_code(change.requirement, 40)} | "
                f"{md_text(change.title, 120)} | "
                f"{_status(change.before) if change.before else 'not assessed'} | {now} |"
            ):
                return False
        _more(page, len(changes))
    return True


def _less_evidence(page: _Page, diff: BaselineDiff) -> bool:
    """Requirements some of whose evidence is gone; False once the page is full."""
    if not diff.shrunk:
        return True
    if not page.add("**Less evidence**", "",
                    "| Framework | Requirement | Now | Documents no longer evidence | Still evidence |",
                    "|---|---|---|---|---:|"):
        return False
    for loss in diff.shrunk[:_CHANGE_ROWS]:
        lost = ", ".join(md_code(p, 120) for p in loss.lost[:5])
        if len(loss.lost) > 5:
            lost += f" and {len(loss.lost) - 5} more"
        if not page.add(f"| {md_code(loss.framework, 40)} | {md_code(loss.requirement, 40)} | "
                        f"{_status(loss.status)} | {lost} | {loss.remaining} |"):
            return False
    _more(page, len(diff.shrunk))
    return True


def _gone(page: _Page, diff: BaselineDiff) -> None:
    if not diff.disappeared:
        return
    if not page.add("**Documents gone** (neither their content nor their path is left)", ""):
        return
    for path in diff.disappeared[:_CHANGE_ROWS]:
        if not page.add(f"- {md_code(path, 200, in_table=False)}"):
            return
    if len(diff.disappeared) > _CHANGE_ROWS:
        page.add(f"- \u2026 and {len(diff.disappeared) - _CHANGE_ROWS} more")
    page.add("")


def _more(page: _Page, count: int) -> None:
    if count > _CHANGE_ROWS:
        page.add(f"| \u2026 | {count - _CHANGE_ROWS} more | | | |")
    page.add("")


def _waivers(page: _Page, publication: Publication) -> None:
    review = publication.waivers
    if not (review.applied or review.expired or review.unused):
        return
    page.add("### Waivers", "")
    if review.applied:
        gaps = "gap is" if len(review.applied) == 1 else "gaps are"
        page.add(f"- {len(review.applied)} {gaps} waived (accepted until the waiver expires).")
    for waiver in review.expired:
        if not page.add(
            f"- **Expired** on {waiver.expires.isoformat()}, no longer applied: "
            f"{md_code(waiver.framework, 40, in_table=False)} {md_code(waiver.requirement, 40, in_table=False)} "
            f"\u2014 {md_text(waiver.reason, 200)}"
        ):
            return
    for waiver in review.unused:
        if not page.add(
            f"- Matches no gap (remove it?): {md_code(waiver.framework, 40, in_table=False)} "
            f"{md_code(waiver.requirement, 40, in_table=False)} \u2014 {md_text(waiver.reason, 200)}"
        ):
            return
    page.add("")


def _gap_row(fw: FrameworkResult, verdict: Verdict, publication: Publication) -> str:
    status = _status(verdict.status)
    waiver = publication.waiver_for(fw.id, verdict.id)
    why = md_text(verdict.reason, 300)
    if waiver is not None:
        status += f" (waived until {waiver.expires.isoformat()})"
        why += f" Waiver: {md_text(waiver.reason, 200)}"
    if verdict.evidence:
        closest = ", ".join(f"{_document(e.path, publication)} ({e.score:.2f})" for e in verdict.evidence[:2])
    elif verdict.near_misses:
        closest = ", ".join(f"{_document(n.path, publication)} ({n.score:.2f})" for n in verdict.near_misses[:2])
    else:
        closest = "none"
    return f"| {md_code(verdict.id, 40)} | {md_text(verdict.title, 120)} | {status} | {why} | {closest} |"


def _unreadable(page: _Page, report: GapReport, publication: Publication) -> None:
    problems = [d for d in report.documents if d.status != "ok"]
    if not problems:
        return
    if not page.open(
        (
            f"<details><summary><strong>{len(problems)} {'document' if len(problems) == 1 else 'documents'} "
            "not read</strong> (they count as evidence for nothing)</summary>",
            "",
            "| Document | Status | Reason |",
            "|---|---|---|",
        ),
        ("", "</details>", ""),
    ):
        return
    for document in problems:
        if not page.add(
            f"| {_document(document.path, publication, 160)} | {md_text(document.status, 20)} | "
            f"{md_text(document.reason or '', 200)} |"
        ):
            break
    page.close()
