"""``report.junit.xml``: the gap report as JUnit XML, for GitLab's test report and Jenkins.

One ``testsuite`` per framework and one ``testcase`` per requirement:

- ``covered`` passes (its evidence is listed in ``system-out``);
- ``missing`` is a ``failure``; ``partial`` too, or ``skipped`` with ``--partial-ok``;
- ``not_applicable`` is ``skipped`` with its justification;
- a gap with a waiver in force is ``skipped`` with the waiver's reason and expiry.

A failure's ``message`` carries the reason and the near misses. The document follows the
``junit-10.xsd`` schema of Jenkins' xUnit plugin, the dialect GitLab and Jenkins read. Text is
escaped by the XML serialiser, and characters XML cannot carry are shown as ``\\xNN``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gapscan.reports.gate import Publication
from gapscan.reports.inert import one_line, truncate, xml_text
from gapscan.reports.model import FrameworkResult, GapReport, Verdict
from gapscan.scanner.common.status import GAP_STATUSES, Status

_MESSAGE_CHARS = 1_000


def render_junit(report: GapReport, publication: Publication | None = None) -> str:
    publication = publication or Publication()
    suites = ET.Element("testsuites", {"name": "gapscan"})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for framework in report.frameworks:
        suite, counts = _suite(framework, report, publication)
        suites.append(suite)
        for key in totals:
            totals[key] += counts[key]
    suites.set("tests", str(totals["tests"]))
    suites.set("failures", str(totals["failures"]))
    suites.set("errors", "0")
    suites.set("time", "0")
    ET.indent(suites, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _suite(framework: FrameworkResult, report: GapReport, publication: Publication) -> tuple[ET.Element, dict]:
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    suite = ET.Element("testsuite", {"name": xml_text(framework.id)})
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("title", framework.title),
        ("version", framework.version),
        ("level", "" if framework.level is None else str(framework.level)),
        ("coverage", f"{framework.coverage:.4f}"),
        ("root", report.root),
        ("gapscan", report.tool_version),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for verdict in framework.verdicts:
        suite.append(_case(framework, verdict, publication, counts))
    suite.set("tests", str(counts["tests"]))
    suite.set("failures", str(counts["failures"]))
    suite.set("errors", "0")
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", "0")
    suite.set("timestamp", xml_text(report.generated_at))
    return suite, counts


def _case(framework: FrameworkResult, verdict: Verdict, publication: Publication, counts: dict) -> ET.Element:
    counts["tests"] += 1
    case = ET.Element(
        "testcase",
        {
            "name": xml_text(one_line(f"{verdict.id} {verdict.title}")),
            "classname": xml_text(one_line(f"{framework.id}.{verdict.parent or verdict.id}")),
            "time": "0",
        },
    )
    reason = one_line(verdict.reason)
    waiver = publication.waiver_for(framework.id, verdict.id)
    if verdict.status == Status.NOT_APPLICABLE:
        counts["skipped"] += 1
        _child(case, "skipped", "not_applicable", reason)
    elif verdict.status in GAP_STATUSES and waiver is not None:
        counts["skipped"] += 1
        _child(case, "skipped", "waived", f"{verdict.status}, {waiver.label()}. {reason}")
    elif verdict.status == Status.PARTIAL and publication.partial_ok:
        counts["skipped"] += 1
        _child(case, "skipped", "partial", f"partial (accepted with --partial-ok): {reason}", _details(verdict))
    elif verdict.status in GAP_STATUSES:
        counts["failures"] += 1
        message = reason + _near_misses(verdict)
        _child(case, "failure", verdict.status, message, _details(verdict))
    if verdict.evidence:
        out = ET.SubElement(case, "system-out")
        out.text = xml_text(_details(verdict))
    return case


def _child(case: ET.Element, tag: str, kind: str, message: str, body: str = "") -> None:
    element = ET.SubElement(case, tag, {"type": kind, "message": xml_text(truncate(one_line(message), _MESSAGE_CHARS))})
    if body:
        element.text = xml_text(body)


def _near_misses(verdict: Verdict) -> str:
    if not verdict.near_misses:
        return " No near misses."
    listed = ", ".join(f"{one_line(n.path)} ({n.score:.2f})" for n in verdict.near_misses)
    return f" Near misses: {listed}."


def _details(verdict: Verdict) -> str:
    lines = [f"{verdict.id} {one_line(verdict.title)}: {verdict.status}", one_line(verdict.reason)]
    if verdict.evidence:
        lines.append("Evidence:")
        lines += [
            f"  {one_line(e.path)} (score {e.score:.2f}"
            + (f", {one_line(e.locator)}" if e.locator else "")
            + (f", dated {one_line(e.modified)}" if e.modified else "")
            + ")"
            for e in verdict.evidence
        ]
    if verdict.near_misses:
        lines.append("Near misses:")
        lines += [f"  {one_line(n.path)} (score {n.score:.2f})" for n in verdict.near_misses]
    if verdict.typical_evidence:
        lines.append("Typical evidence: " + "; ".join(one_line(t) for t in verdict.typical_evidence))
    return "\n".join(lines)
