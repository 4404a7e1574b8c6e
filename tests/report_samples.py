"""Hand-built gap reports for the renderer tests: every status, waivers, history, and file names
chosen to break every output format."""

from __future__ import annotations

from gapscan.reports.model import (
    DocumentEntry,
    EvidenceRef,
    FrameworkResult,
    GapReport,
    HistoryPoint,
    NearMiss,
    Related,
    Tag,
    Verdict,
)

SCRIPT = "hr/<script>alert(1)</script>.docx"
FORMULA = '=HYPERLINK("http://x","click")'
PLUS = "+cmd|' /C calc'!A0.csv"
AT = "@SUM(1+1)*cmd.pdf"
MINUS = "-2+3 budget.md"
CDATA = "records/cdata]]><x>&amp;.md"
CONTROL = "records/ctl\x01\x1b[31m\x7fend.md"
BREAKS = "tab\tand\rcr\nnewline.md"
MARKDOWN = "@alice ![img](http://evil.example/p.png) [link](javascript:alert(1)) *b* | x.md"
TICKS = "pipe|back\\|slash`tick``.md"
UNDECODABLE = "bytes-\udcff\udcfe.md"
HOSTILE_PATHS = (SCRIPT, FORMULA, PLUS, AT, MINUS, CDATA, CONTROL, BREAKS, MARKDOWN, TICKS, UNDECODABLE)
HOSTILE_REASON = "</td><script>alert('reason')</script> ]]> =1+1"


def _doc(path: str, sha: str, tags: tuple[Tag, ...] = (), status: str = "ok", reason: str | None = None,
         modified: str = "2026-03-01", fmt: str = "md") -> DocumentEntry:
    return DocumentEntry(path, fmt, 1234, sha, modified, status, reason, "", tags)


def sample_report(*, history: bool = True) -> GapReport:
    iso = FrameworkResult(
        "iso9001-2015",
        "ISO 9001:2015 Quality management systems",
        "2015",
        (
            Verdict("4.1", "Context of the organization", "4", "covered",
                    f"Evidenced by {SCRIPT} (score 0.61).",
                    evidence=(EvidenceRef(SCRIPT, 0.61, "page 1", "2026-03-01", ("context", "issues")),
                              EvidenceRef(FORMULA, 0.44, "", "2026-02-01", ("scope",))),
                    parent_title="Context of the organization", intent="Know the issues that matter.",
                    typical_evidence=("context analysis",)),
            Verdict("7.1.5", "Monitoring and measuring resources", "7", "missing",
                    "No document is evidence for this requirement.",
                    near_misses=(NearMiss(PLUS, 0.12), NearMiss(CONTROL, 0.09)),
                    typical_evidence=("calibration records",)),
            Verdict("9.2", "Internal audit", "9", "partial",
                    "Evidence is stale: the newest dates from 2021-03-14, older than the 400-day limit.",
                    evidence=(EvidenceRef(CDATA, 0.52, "section 2", "2021-03-14", ("audit",)),
                              EvidenceRef(BREAKS, 0.41, "", "2020-01-01", ())),
                    typical_evidence=("audit programme", "audit reports")),
            Verdict("9.3", "Management review", "9", "partial",
                    f"Only weak evidence: the closest document, {MARKDOWN}, scores 0.20, below the 0.30 needed.",
                    near_misses=(NearMiss(MARKDOWN, 0.2),)),
            Verdict("10.2", "Nonconformity and corrective action", "10", "missing", HOSTILE_REASON,
                    near_misses=(NearMiss(AT, 0.15), NearMiss(TICKS, 0.11), NearMiss(UNDECODABLE, 0.1)),
                    related=(Related("cmmi-v2-dev", "CAR 3.1", "intersect", "strong"),)),
            Verdict("8.3", "Design and development", "8", "not_applicable",
                    "Not applicable: We build to customer designs."),
        ),
    )
    cmmi = FrameworkResult(
        "cmmi-v2-dev",
        "CMMI V2.0 Development",
        "2.0",
        (
            Verdict("PQA 2.1", "Develop and follow a quality assurance approach", "PQA", "covered",
                    f"Evidenced by {MINUS} (score 0.50).",
                    evidence=(EvidenceRef(MINUS, 0.5, "", "2026-01-10", ("assurance",)),),
                    parent_title="Process Quality Assurance", level=2),
            Verdict("SAM 2.1", "Supplier agreements", "SAM", "missing", "No document is evidence for this requirement.",
                    parent_title="Supplier Agreement Management", level=2, evidence_kind="retain"),
            Verdict("CAR 3.1", "Select outcomes for analysis", "CAR", "missing",
                    "No document is evidence for this requirement.", level=3,
                    related=(Related("iso9001-2015", "10.2", "intersect", "strong"),)),
        ),
        level=3,
    )
    documents = (
        _doc(SCRIPT, "a" * 64, (Tag("iso9001-2015", "4.1", 0.61),)),
        _doc(FORMULA, "b" * 64, (Tag("iso9001-2015", "4.1", 0.44),), fmt="xlsx"),
        _doc(PLUS, "c" * 64, (), fmt="csv"),
        _doc(AT, "d" * 64, (), fmt="pdf"),
        _doc(MINUS, "e" * 64, (Tag("cmmi-v2-dev", "PQA 2.1", 0.5),)),
        _doc(CDATA, "f" * 64, (Tag("iso9001-2015", "9.2", 0.52),), modified="2021-03-14"),
        _doc(CONTROL, "0" * 64, (), status="unreadable", reason=f"corrupt: {FORMULA}"),
        _doc(BREAKS, "1" * 64, (Tag("iso9001-2015", "9.2", 0.41),), modified="2020-01-01"),
        _doc(MARKDOWN, "2" * 64),
        _doc(TICKS, "3" * 64, status="skipped", reason="legacy format <b>.doc</b>", fmt="doc"),
        _doc(UNDECODABLE, "4" * 64),
    )
    points = ()
    if history:
        points = tuple(
            HistoryPoint(f"2026-0{month}-01T09:00:00+00:00", 10 + month, 9 + month,
                         (("cmmi-v2-dev", 0.1 * month), ("iso9001-2015", 0.05 + 0.1 * month)))
            for month in range(1, 5)
        ) + (HistoryPoint("2026-05-01T09:00:00+00:00", 12, 11, (("iso9001-2015", 0.5),)),)
    return GapReport(
        tool_version="0.1.0",
        generated_at="2026-05-02T10:00:00+00:00",
        root="/srv/qms/<b>root</b>",
        frameworks=(iso, cmmi),
        documents=tuple(sorted(documents, key=lambda d: d.path)),
        warnings=(f"warning about {SCRIPT}",),
        history=points,
    )


def big_report(requirements: int = 3000, path_chars: int = 3000) -> GapReport:
    """A pathological report: thousands of gaps with huge names, for size limits."""
    long = "d/" + "x" * path_chars + ".md"
    verdicts = tuple(
        Verdict(f"R{i}", "T" * 500, f"G{i // 10}", "missing" if i % 3 else "partial", "why " * 200 + long,
                near_misses=(NearMiss(long, 0.1), NearMiss(long + "2", 0.05)))
        for i in range(requirements)
    )
    fw = FrameworkResult("big", "Big catalog " + "B" * 300, "1", verdicts)
    docs = tuple(_doc(f"{long}{i}", f"{i:064d}", status="unreadable", reason="r" * 500) for i in range(300))
    return GapReport("0.1.0", "2026-05-02T10:00:00+00:00", "/r/" + "y" * 5000, (fw, fw), docs)


# Two ordinary documents in our own words, for tests that scan a small real tree.
POLICY = """# Quality policy
Top management sets this quality policy: we commit to customer satisfaction, to meeting applicable
requirements and to continual improvement of the quality management system. The policy is
communicated to all staff, understood and applied, and reviewed at each management review.
"""
AUDIT = """# Internal audit report IA-2026-02
Audit date: 2026-02-10. Lead auditor: R. Patel. Audit criteria: ISO 9001 and our procedures.
Scope: purchasing and production. Findings: two minor nonconformities, one observation.
Corrective actions raised in the CAPA log; follow-up audit planned within the audit programme.
"""
