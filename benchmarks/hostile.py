"""Benchmark of a scan of hostile input: peak memory of the whole scan, and the delay one file costs.

    python benchmarks/hostile.py [--timeout 5] [--jobs 2] [--keep]

Prints (nothing is asserted; this is not a test):

1. The hostile suite of ``fixtures/hostile.py`` (zip bombs that inflate to 2 GB, billion laughs,
   external entities, cyclic and encrypted PDFs, truncated, random and empty files of every format,
   a 50 MB one-line text, a million-row workbook, odd names, deep folders, symlink loops) with the
   ordinary documents, scanned by a real ``gapscan scan`` process with ``--jobs``. While it runs,
   the process and all its descendants (the extraction workers) are sampled every 50 ms from
   /proc: the peak of their summed resident memory (RSS; it counts pages shared between the
   forked workers and the parent once per process, so it overstates), the peak of their summed
   proportional memory (PSS; shared pages split between sharers), and the largest peak of any one
   process (VmHWM, and ``getrusage(RUSAGE_CHILDREN).ru_maxrss``). Target: under 1 GiB.
2. Per-file extraction time: every file of the suite through the real worker pool with one
   worker; the slowest files and the worst time against the per-file limit (``timeout_seconds``).
3. Per-file delay of a whole scan. The ordinary documents are scanned with ``--jobs 1`` alone, then together with
   one heavy file at a time (each with a fresh index, the fastest of ``--repeat`` runs); the
   difference in wall time is what that file cost the scan, shown
   against the per-file limit (``timeout_seconds``). Target: no file costs more than its limit plus
   a small margin (a worker killed at its time-out is replaced).

Limits other than ``timeout_seconds`` are the defaults (see docs/limits.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.documents import write_slow_pdf  # noqa: E402
from gapscan.scanner.discover import display_path as display  # noqa: E402
from fixtures.hostile import (  # noqa: E402
    build_suite,
    remove_tree,
    write_million_row_xlsx,
    write_normal_documents,
    write_one_line_text,
    write_xml_bomb,
    write_zip_bomb,
)

from gapscan.scanner.discover import discover  # noqa: E402
from gapscan.scanner.documents import Document, Extract  # noqa: E402
from gapscan.scanner.extract import Limits, extract_all  # noqa: E402

KiB = 1024
MiB = 1024 * KiB


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, stack = _children(), [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, ()))
    return found


def _status_kib(pid: int, *keys: str) -> dict[str, int]:
    values = dict.fromkeys(keys, 0)
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError):
        pass
    return values


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class Sampler:
    """Samples a process tree every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = self.peak_hwm = 0  # KiB
        self.most_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _descendants(self.pid)
            rss = pss = 0
            for pid in pids:
                status = _status_kib(pid, "VmRSS", "VmHWM")
                rss += status["VmRSS"]
                pss += _pss_kib(pid)
                self.peak_hwm = max(self.peak_hwm, status["VmHWM"])
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.most_processes = max(self.most_processes, len(pids))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_scan(tree: Path, work: Path, jobs: int, name: str, sample: bool = False):
    out = work / f"out-{name}"
    command = [sys.executable, "-m", "gapscan.scanner", "scan", str(tree), "--out", str(out),
               "--index", str(work / f"{name}.sqlite"), "--config", str(work / "gapscan.toml"),
               "--jobs", str(jobs), "--format", "html,json"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = Sampler(process.pid) if sample else None
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - started
    if sampler:
        sampler.stop()
    if process.returncode not in (0, 1):
        raise SystemExit(f"scan {name} failed ({process.returncode}): {stderr.decode()[-2000:]}")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # The scan's own time, without the interpreter's start-up: "Scanned N documents in X s".
    scanned = re.search(r"Scanned \d+ documents in ([\d.]+) s", stdout.decode())
    return (float(scanned.group(1)) if scanned else seconds), report, sampler


def extraction_times(tree: Path, timeout: float) -> list[tuple[float, str, str]]:
    """Every file of ``tree`` through the real worker pool with one worker: the time between one
    result and the next is what that file cost, worker replacement after a time-out included."""
    found = discover(tree)
    jobs = [(c.absolute, Document(c.path, c.format, c.size, c.mtime)) for c in found.candidates]
    times = []
    last = time.monotonic()
    for result in extract_all(jobs, Limits(timeout_seconds=timeout), 1):
        now = time.monotonic()
        reason = "ok" if isinstance(result, Extract) else result.reason
        times.append((now - last, result.document.path, reason))
        last = now
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5, help="timeout_seconds per file (default 5)")
    parser.add_argument("--jobs", type=int, default=2, help="workers for the whole-suite scan (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per delay measurement; the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gapscan-hostile-bench-"))
    try:
        (work / "gapscan.toml").write_text(f"[limits]\ntimeout_seconds = {args.timeout}\n", encoding="utf-8")
        secret = work / "secret.txt"
        secret.write_text("BENCHMARK-SECRET", encoding="utf-8")

        # 1. The whole suite, memory sampled.
        started = time.monotonic()
        expect, normal = build_suite(work / "suite", secret=secret, url="http://127.0.0.1:9",
                                     timeout_seconds=args.timeout)
        print(f"built the hostile suite: {len(expect)} files ({len(normal)} ordinary) "
              f"in {time.monotonic() - started:.1f} s")
        seconds, report, sampler = run_scan(work / "suite", work, args.jobs, "suite", sample=True)
        children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        statuses: dict[str, int] = {}
        for document in report["documents"]:
            statuses[document["status"]] = statuses.get(document["status"], 0) + 1
        timed_out = [d["path"] for d in report["documents"] if (d["reason"] or "").startswith("timed out")]
        print(f"whole suite, --jobs {args.jobs}, timeout {args.timeout:g} s: scan time {seconds:.1f} s, "
              f"{len(report['documents'])} documents {statuses}; timed out: {', '.join(timed_out) or 'none'}")
        print(f"  peak memory of the scan's process tree (up to {sampler.most_processes} processes, "
              f"sampled every 50 ms):")
        print(f"    summed RSS {sampler.peak_rss / KiB:.0f} MiB (shared pages counted per process)")
        print(f"    summed PSS {sampler.peak_pss / KiB:.0f} MiB (shared pages split between processes)")
        print(f"    largest single process {sampler.peak_hwm / KiB:.0f} MiB (VmHWM); "
              f"ru_maxrss of children {children_maxrss / KiB:.0f} MiB")
        verdict = "under" if sampler.peak_rss < 1024 * KiB else "OVER"
        print(f"    target: whole scan under 1024 MiB -> {verdict} (by summed RSS)")

        # 2. Per-file cost in the extraction workers, every file of the suite, one worker.
        times = extraction_times(work / "suite", args.timeout)
        times.sort(reverse=True)
        print(f"per-file extraction time (one worker, real pool, {len(times)} files); the slowest:")
        for seconds, path, reason in times[:5]:
            print(f"    {seconds:5.2f} s  {display(path)[:60]:60}  {reason[:60]}")
        print(f"  worst {times[0][0]:.2f} s against a limit of {args.timeout:g} s "
              f"(over by {max(times[0][0] - args.timeout, 0):.2f} s)")

        # 3. Per-file delay of the whole scan (parent's hashing and classifying included), with one
        #    worker so that delays add up: the ordinary documents alone, then with one heavy file.
        base_tree = work / "base"
        write_normal_documents(base_tree)
        base_seconds = min(run_scan(base_tree, work, 1, f"base-{n}")[0] for n in range(args.repeat))
        print(f"per-file delay of a whole scan (--jobs 1, scan time without start-up, fastest of "
              f"{args.repeat}): ordinary documents alone {base_seconds:.1f} s")
        heavy = {
            "slow.pdf": lambda p: write_slow_pdf(p, operations=600_000),
            "million-rows.xlsx": write_million_row_xlsx,
            "one-line-50mb.txt": write_one_line_text,
            "bomb.docx": write_zip_bomb,
            "billion-laughs.docx": write_xml_bomb,
        }
        worst = 0.0
        for name, writer in heavy.items():
            tree = work / f"with-{name}"
            write_normal_documents(tree)
            writer(tree / name)
            runs = [run_scan(tree, work, 1, f"with-{name}-{n}") for n in range(args.repeat)]
            seconds, report, _ = min(runs, key=lambda run: run[0])
            (entry,) = [d for d in report["documents"] if d["path"] == name]
            delay = seconds - base_seconds
            worst = max(worst, delay)
            outcome = entry["status"] if entry["status"] == "ok" else f"{entry['status']}: {entry['reason']}"
            print(f"  + {name:22} {seconds:5.1f} s, delay {delay:5.1f} s "
                  f"(limit {args.timeout:g} s, over by {max(delay - args.timeout, 0):.1f} s) -> {outcome}")
        print(f"  worst delay {worst:.1f} s against a limit of {args.timeout:g} s")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            remove_tree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
