"""Benchmark of ``gapscan watch``: how fast the report follows the disk.

    python benchmarks/watch_latency.py [--documents 2000] [--burst 5000] [--trials 7] [--jobs N]

Prints two figures (nothing is asserted; this is not a test):

1. Single-file latency. A watch service runs on a generated quality system of ``--documents``
   documents. One document is rewritten, and the time is taken from the moment the file stops
   changing (its last write is closed) to the moment ``report.json`` reflects the change. Repeated
   ``--trials`` times, on a fresh file each time (the median and the worst are printed). Target: under
   2 seconds on about 2,000 documents.
2. Burst. ``--burst`` new documents are copied into the watched tree at once; the time from the
   first file to the report that lists all of them, against a one-off ``gapscan scan`` of the same
   files with an empty index. Target: within 1.2 times the one-off scan.

The documents are small Markdown and text files written from a vocabulary of quality-system
topics (procedures, records, plans, minutes, registers), varied per document so the classifier
sees realistic, not identical, input. Everything happens in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from gapscan.scanner.config import Config
from gapscan.scanner.output import write_reports
from gapscan.scanner.pipeline import scan

# Topic -> (document kinds, sentences written for this benchmark).
TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "internal-audit": (
        ("procedure", "report", "programme", "checklist"),
        (
            "The audit programme lists every process with its planned audit month and the lead auditor.",
            "Auditors never audit their own work; the quality manager checks independence before assigning.",
            "Each audit has a written scope, the criteria it is measured against and a checklist.",
            "Findings are graded as major nonconformity, minor nonconformity or observation.",
            "The audit report goes to the process owner and to the next management review.",
            "Open findings are followed up until the corrective action is verified as effective.",
        ),
    ),
    "document-control": (
        ("procedure", "register", "form"),
        (
            "Controlled documents carry an identifier, a revision, an owner and an approval date.",
            "Drafts are reviewed by a second person and approved before they are released.",
            "Obsolete revisions are withdrawn from the shared drive and kept in the archive folder.",
            "The master list of documents shows the current revision of every procedure and form.",
            "Records are kept for the retention period set in the records table, then destroyed.",
            "Changes are described in the revision history so readers can see what changed and why.",
        ),
    ),
    "corrective-action": (
        ("procedure", "log", "report"),
        (
            "A nonconformity is recorded with what happened, where, and who found it.",
            "The team contains the problem first, then looks for the root cause with five whys.",
            "The corrective action has an owner and a due date and is tracked in the CAPA log.",
            "Effectiveness is checked after three months; the record is closed only when it worked.",
            "Trends in nonconformities are reported to management every quarter.",
            "Customer complaints that show a systemic problem always open a corrective action.",
        ),
    ),
    "management-review": (
        ("minutes", "agenda", "report"),
        (
            "Top management reviewed the quality objectives, the audit results and customer feedback.",
            "The review looked at process performance, supplier performance and the status of actions.",
            "Resources for the next year were agreed, including two additional inspectors.",
            "Risks and opportunities were updated and the register owner was confirmed.",
            "Decisions and actions from this review are listed with owners and due dates.",
            "The quality policy was confirmed as still suitable; no change was needed this year.",
        ),
    ),
    "training": (
        ("record", "matrix", "plan"),
        (
            "The competence matrix shows which roles need which skills and who holds them.",
            "New starters complete the quality induction in their first week.",
            "Training effectiveness is checked by the supervisor after one month on the job.",
            "Certificates and attendance lists are kept as records of competence.",
            "Gaps in the matrix are planned into the training plan for the next quarter.",
            "Auditor training includes a witnessed audit before someone leads an audit alone.",
        ),
    ),
    "risk": (
        ("register", "assessment", "procedure"),
        (
            "Each risk has a likelihood, an impact, an owner and a planned treatment.",
            "Opportunities are recorded the same way and reviewed at the management review.",
            "The context of the organisation and interested parties feed the risk register.",
            "Treatment actions are tracked until the residual risk is acceptable.",
            "The register is reviewed every six months and after any major change.",
            "Risks to product conformity and customer satisfaction are given priority.",
        ),
    ),
    "supplier": (
        ("evaluation", "list", "procedure"),
        (
            "Suppliers are evaluated on quality, delivery and responsiveness before approval.",
            "The approved supplier list shows the scope of approval and the next re-evaluation date.",
            "Incoming inspection results feed the supplier performance score each quarter.",
            "A supplier with repeated rejections is asked for a corrective action report.",
            "Purchase orders state the requirements, drawings and certificates the supplier must meet.",
            "Outsourced processes are controlled through the supplier agreement and audits.",
        ),
    ),
    "project-planning": (
        ("plan", "estimate", "schedule"),
        (
            "The project plan sets scope, milestones, the team and the budget.",
            "Estimates are made from the work breakdown and past project data.",
            "Stakeholders and their involvement are listed with their responsibilities.",
            "The plan is reviewed at each milestone and changed through the change process.",
            "Commitments to the plan are recorded by the people who do the work.",
            "Project risks are identified at kick-off and tracked in the project risk list.",
        ),
    ),
    "requirements": (
        ("specification", "review", "traceability"),
        (
            "Customer requirements are captured, clarified and agreed before work starts.",
            "Each requirement is traced to design elements and to the tests that verify it.",
            "Changes to requirements go through impact analysis and are approved by the customer.",
            "The requirements review checks that each item is clear, testable and feasible.",
            "Conflicting requirements are escalated to the product owner for a decision.",
            "The traceability matrix is updated at every release.",
        ),
    ),
    "verification": (
        ("test report", "plan", "record"),
        (
            "Verification checks that the product meets its specified requirements.",
            "Peer reviews of designs and code are recorded with their findings and follow-up.",
            "Test results are recorded with the version tested, the tester and the outcome.",
            "Validation with users confirms the product fits its intended use.",
            "Defects found in testing are logged, fixed and retested before release.",
            "Release approval requires all critical tests passed and open defects assessed.",
        ),
    ),
    "measurement": (
        ("dashboard", "report", "plan"),
        (
            "Key performance indicators are measured monthly and compared with their targets.",
            "Customer satisfaction is surveyed twice a year and the results analysed for trends.",
            "Measuring equipment is calibrated on schedule and its status is labelled.",
            "Data are analysed to find where processes can improve.",
            "The measurement plan says what is measured, how, by whom and how often.",
            "On-time delivery fell below target in two months; actions are in the CAPA log.",
        ),
    ),
    "configuration": (
        ("plan", "baseline", "audit"),
        (
            "Configuration items are identified and placed under version control.",
            "Baselines are created at each release and recorded in the baseline register.",
            "Change requests are reviewed by the change board before implementation.",
            "A configuration audit confirms the baseline matches its documentation.",
            "Access to the release branch is restricted to the release manager.",
            "The status of each change request is reported weekly.",
        ),
    ),
}
FILLER = (
    "This document applies to all sites and departments unless stated otherwise.",
    "Questions about this document go to its owner.",
    "Abbreviations are explained in the glossary on the intranet.",
    "The team discussed the schedule for the coming weeks.",
    "Figures are rounded to one decimal place.",
    "See the attached spreadsheet for the detailed data.",
    "Where a local instruction conflicts with this document, this document prevails.",
    "The next revision is planned after the reorganisation of the warehouse.",
    "Everyone involved received a copy by e-mail.",
    "Comments from the last review have been incorporated.",
)
DEPARTMENTS = ("Production", "Engineering", "Quality", "Purchasing", "Sales", "Logistics", "IT", "HR", "Service")
PEOPLE = ("A. Jones", "B. Patel", "C. Novak", "D. Okafor", "E. Lindqvist", "F. Moreau", "G. Rossi", "H. Tanaka")
PRODUCTS = ("pump housing", "control unit", "sensor board", "valve assembly", "firmware 4.2", "field service app")


def document_text(rng: random.Random, topic: str, kind: str, number: int) -> tuple[str, str]:
    """(file name stem, text) of one generated document."""
    _, sentences = TOPICS[topic]
    department = rng.choice(DEPARTMENTS)
    owner = rng.choice(PEOPLE)
    day = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 900))
    title = f"{topic.replace('-', ' ').title()} {kind} — {department} {number:05d}"
    lines = [f"# {title}", "", f"Owner: {owner}. Department: {department}. Review date: {day.isoformat()}.", ""]
    for section in range(rng.randint(2, 5)):
        lines.append(f"## {rng.choice(('Purpose', 'Scope', 'Method', 'Results', 'Actions', 'Notes'))} {section + 1}")
        body = rng.sample(sentences, rng.randint(2, 4)) + rng.sample(FILLER, rng.randint(0, 2))
        rng.shuffle(body)
        if rng.random() < 0.3:
            body.append(f"This concerns the {rng.choice(PRODUCTS)} line, order {rng.randint(10000, 99999)}.")
        lines.append(" ".join(body))
        if rng.random() < 0.25:
            lines += ["", "| Item | Owner | Due |", "|---|---|---|"]
            for _ in range(rng.randint(1, 4)):
                due = day + timedelta(days=rng.randint(7, 120))
                lines.append(f"| {rng.choice(sentences)[:40]} | {rng.choice(PEOPLE)} | {due.isoformat()} |")
        lines.append("")
    stem = f"{topic}-{kind.replace(' ', '-')}-{number:05d}"
    return stem, "\n".join(lines)


def generate(root: Path, count: int, seed: int = 1, first: int = 0) -> list[Path]:
    """Write ``count`` documents under ``root`` in department folders; returns their paths."""
    rng = random.Random(seed)
    written = []
    for number in range(first, first + count):
        topic = rng.choice(sorted(TOPICS))
        kind = rng.choice(TOPICS[topic][0])
        stem, text = document_text(rng, topic, kind, number)
        suffix = ".md" if rng.random() < 0.7 else ".txt"
        folder = root / rng.choice(DEPARTMENTS).lower() / topic
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}{suffix}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# -- measuring -------------------------------------------------------------------------------------


class ReportWatcher:
    """Notices each new ``report.json`` (an atomic rename gives it a new inode) with a cheap stat,
    and parses it only then."""

    def __init__(self, out: Path):
        self.path = out / "report.json"
        self.seen: tuple[int, int] | None = self._key()

    def _key(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns)

    def wait(self, accept, timeout: float = 600.0, interval: float = 0.002) -> tuple[float, dict]:
        """(monotonic time the accepted report appeared, the report)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            key = self._key()
            if key is not None and key != self.seen:
                noticed = time.monotonic()
                self.seen = key
                report = json.loads(self.path.read_text(encoding="utf-8"))
                if accept(report):
                    return noticed, report
            time.sleep(interval)
        raise TimeoutError(f"no accepted report within {timeout:g} s")


def sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the extraction workers): unlike wall
    time, it hardly changes when other programs compete for the CPUs."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def idle(service, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = service.health()
        if health["status"] == "watching" and health["queue"] == 0 and health["in_flight"] == 0:
            return
        time.sleep(0.05)
    raise TimeoutError("the service did not settle")


def main(argv: list[str] | None = None) -> int:
    from gapscan.scanner.watch import DEFAULT_DEBOUNCE_SECONDS, WatchService

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000, help="documents in the watched tree")
    parser.add_argument("--burst", type=int, default=5000, help="documents copied in at once (0: skip)")
    parser.add_argument("--trials", type=int, default=7, help="single-file changes to time")
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 8), help="extraction workers")
    parser.add_argument("--debounce", type=float, default=DEFAULT_DEBOUNCE_SECONDS)
    parser.add_argument("--poll", type=float, default=None, help="use the polling observer at this interval")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    work = Path(tempfile.mkdtemp(prefix="gapscan-watch-bench-"))
    config = Config()  # every bundled framework, as a user would run it
    formats = ("html", "json")
    print(f"gapscan watch benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{args.jobs} extraction workers, debounce {args.debounce:g} s, "
          f"{f'polling every {args.poll:g} s' if args.poll else 'native events'}; in {work}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (wall times stretch when other programs share the CPUs)")
    try:
        root, out = work / "qms", work / "out"
        started = time.monotonic()
        paths = generate(root, args.documents, seed=1)
        print(f"generated {len(paths)} documents in {time.monotonic() - started:.1f} s")

        service = WatchService(root, config, out, formats, index_path=work / "index.sqlite", jobs=args.jobs,
                               poll=args.poll, debounce=args.debounce)
        started = time.monotonic()
        service.start()
        try:
            idle(service, timeout=1800)
            print(f"start-up catch-up (empty index): {time.monotonic() - started:.1f} s for "
                  f"{service.health()['documents']} documents")
            watcher = ReportWatcher(out)

            # 1. Single-file latency.
            rng = random.Random(7)
            latencies, processing = [], []
            for trial in range(args.trials):
                path = paths[(trial * 397) % len(paths)]
                relative = path.relative_to(root).as_posix()
                topic = rng.choice(sorted(TOPICS))
                _, text = document_text(rng, topic, rng.choice(TOPICS[topic][0]), 90000 + trial)
                text += f"\nRevision note {trial}: updated during the benchmark.\n"
                expected = sha256_text(text)
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
                stopped_changing = time.monotonic()  # the last write is closed
                noticed, _ = watcher.wait(
                    lambda r, relative=relative, expected=expected:
                        any(d["path"] == relative and d["sha256"] == expected for d in r["documents"]))
                latencies.append(noticed - stopped_changing)
                idle(service)
                processing.append(service.batches[-1].seconds)
                time.sleep(0.3)
            print(f"single-file latency over {args.trials} trials on {args.documents} documents: "
                  f"median {statistics.median(latencies):.2f} s, best {min(latencies):.2f} s, "
                  f"worst {max(latencies):.2f} s (target < 2 s)")
            print(f"  of which the batch itself (read, classify, assess, write reports): median "
                  f"{statistics.median(processing):.2f} s; the rest is the {args.debounce:g} s quiet period "
                  f"and event delivery")
            print("  trials: " + ", ".join(f"{x:.2f}" for x in latencies))

            # 2. Burst against a one-off scan of the same files.
            if args.burst:
                staging = work / "incoming"
                generate(staging, args.burst, seed=2, first=args.documents)
                started, cpu = time.monotonic(), cpu_seconds()
                once = scan(staging, config, index_path=work / "one-off.sqlite", jobs=args.jobs)
                write_reports(once.report, work / "one-off-out", formats)
                one_off, one_off_cpu = time.monotonic() - started, cpu_seconds() - cpu
                print(f"one-off scan of the {args.burst} burst files (empty index, reports written): "
                      f"{one_off:.1f} s ({one_off_cpu:.1f} CPU s)")

                expected_count = args.documents + args.burst
                time.sleep(1.0)
                cpu = cpu_seconds()
                first_file = time.monotonic()
                shutil.copytree(staging, root / "incoming")
                last_file = time.monotonic()
                noticed, report = watcher.wait(lambda r: len(r["documents"]) == expected_count, interval=0.05)
                burst_cpu = cpu_seconds() - cpu
                idle(service)
                batches = [b for b in service.batches if b.kind == "batch" and len(b.changed) > 1]
                print(f"burst of {args.burst} files copied in {last_file - first_file:.1f} s; report listing all "
                      f"{expected_count} documents {noticed - last_file:.1f} s after the last file "
                      f"({noticed - first_file:.1f} s after the first), in {len(batches)} batch(es)")
                print(f"  burst / one-off scan = {(noticed - last_file) / one_off:.2f}x from the last file, "
                      f"{(noticed - first_file) / one_off:.2f}x from the first (target <= 1.2x); "
                      f"CPU time {burst_cpu:.1f} s = {burst_cpu / one_off_cpu:.2f}x (copying included)")
        finally:
            service.stop()
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
