from datetime import date

from gapscan.scanner.common.evidence import Evidence
from gapscan.mappings import bundled_catalogs
from gapscan.reports.assess import AssessmentInputs, assess

ISO = "iso9001-2015"
TODAY = date(2026, 11, 25)


def verdicts(evidence, dates=None, kinds=None, **options):
    inputs = AssessmentInputs(dates or {}, kinds or {}, TODAY)
    result = assess(bundled_catalogs()[ISO], None, evidence, inputs, **options)
    return {v.id: v for v in result.verdicts}, result


def ev(path, requirement, score):
    return Evidence(path, ISO, requirement, score, "page 1", ("audit",), tag=score >= 0.2)


def test_nothing_found_is_missing_with_near_misses():
    found, result = verdicts([ev("notes.md", "9.2", 0.1)])
    verdict = found["9.2"]
    assert verdict.status == "missing"
    assert verdict.reason == "No document is evidence for this requirement."
    assert [n.path for n in verdict.near_misses] == ["notes.md"]
    assert result.counts["missing"] == 56


def test_record_above_threshold_covers_a_retain_requirement():
    found, _ = verdicts([ev("audits/2026 audit report.pdf", "9.2", 0.4)],
                        dates={"audits/2026 audit report.pdf": "2026-06-01"},
                        kinds={"audits/2026 audit report.pdf": "record"})
    verdict = found["9.2"]
    assert verdict.status == "covered"
    assert "audits/2026 audit report.pdf" in verdict.reason
    assert verdict.evidence[0].modified == "2026-06-01" and verdict.evidence[0].locator == "page 1"
    assert verdict.near_misses == ()


def test_only_a_procedure_where_records_are_required_is_partial():
    found, _ = verdicts([ev("audit procedure.docx", "9.2", 0.5)],
                        dates={"audit procedure.docx": "2026-01-01"}, kinds={"audit procedure.docx": "procedure"})
    assert found["9.2"].status == "partial"
    assert found["9.2"].reason == ("Only procedures found (audit procedure.docx); "
                                   "records that show it is done are required.")


def test_a_procedure_is_enough_where_nothing_must_be_retained():
    found, _ = verdicts([ev("communication plan.docx", "7.4", 0.5)], kinds={"communication plan.docx": "procedure"})
    assert found["7.4"].status == "covered"


def test_stale_evidence_is_partial():
    found, _ = verdicts([ev("audit report 2021.pdf", "9.2", 0.5)],
                        dates={"audit report 2021.pdf": "2021-03-04"}, kinds={"audit report 2021.pdf": "record"})
    assert found["9.2"].status == "partial"
    assert "stale" in found["9.2"].reason and "2021-03-04" in found["9.2"].reason


def test_configured_max_age_overrides_the_catalog():
    evidence = [ev("review.md", "7.4", 0.5)]
    found, _ = verdicts(evidence, dates={"review.md": "2026-01-01"}, max_age_days={"7": 30})
    assert found["7.4"].status == "partial"


def test_a_near_miss_never_raises_coverage_and_says_why_it_is_not_evidence():
    near = Evidence("maybe.md", ISO, "7.4", 0.75, "page 1", ("communication",), tag=False,
                    decision="not what the document is mainly about")
    found, _ = verdicts([near])
    assert found["7.4"].status == "missing" and found["7.4"].evidence == ()
    assert found["7.4"].reason == ("No document is evidence for this requirement; the closest, maybe.md, "
                                   "is not: not what the document is mainly about.")
    assert [n.path for n in found["7.4"].near_misses] == ["maybe.md"]


def test_a_blank_template_falls_short_of_a_maintained_document():
    found, _ = verdicts([ev("forms/communication plan template.docx", "7.4", 0.5)],
                        kinds={"forms/communication plan template.docx": "template"})
    assert found["7.4"].status == "partial" and "blank template" in found["7.4"].reason


def test_only_templates_where_records_are_required_say_no_record_shows_it_is_done():
    found, _ = verdicts([ev("forms/audit report template.docx", "9.2", 0.5)],
                        kinds={"forms/audit report template.docx": "template"})
    assert found["9.2"].status == "partial"
    assert found["9.2"].reason == ("Only templates found (forms/audit report template.docx); "
                                   "records that show it is done are required.")


def test_not_applicable_needs_and_shows_the_justification_and_applies_to_children():
    found, result = verdicts([], not_applicable={"8.3": "We build to customer designs."})
    assert found["8.3.4"].status == "not_applicable"
    assert "We build to customer designs." in found["8.3.4"].reason
    assert result.counts["not_applicable"] == 6
    assert result.coverage == 0.0


def test_coverage_counts_partial_as_half():
    evidence = [ev("a.md", "7.4", 0.5), ev("b.md", "7.3", 0.5)]
    _, result = verdicts(evidence, kinds={"b.md": "template"})
    assert result.counts["covered"] == 1 and result.counts["partial"] == 1
    assert result.coverage == round(1.5 / 56, 4)


def test_current_procedure_with_stale_records_says_the_records_are_stale():
    found, _ = verdicts(
        [ev("PR-02 internal audit procedure.docx", "9.2", 0.5), ev("audits/audit report 2021.pdf", "9.2", 0.45)],
        dates={"PR-02 internal audit procedure.docx": "2026-02-01", "audits/audit report 2021.pdf": "2021-06-30"},
        kinds={"PR-02 internal audit procedure.docx": "procedure", "audits/audit report 2021.pdf": "record"},
    )
    assert found["9.2"].status == "partial"
    assert found["9.2"].reason.startswith("The records are stale: the newest dates from 2021-06-30")


def test_both_needs_a_maintained_document_as_well_as_records():
    found, _ = verdicts([ev("records/process-kpi-results-2024.xlsx", "4.4", 0.5)],
                        kinds={"records/process-kpi-results-2024.xlsx": "record"})
    assert found["4.4"].status == "partial" and "maintained document" in found["4.4"].reason
