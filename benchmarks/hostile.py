"""Benchmark of hostile input: peak memory of a whole scan, the delay one file costs, and the
watch service and its report server under hostile load.

    python benchmarks/hostile.py [--timeout 5] [--jobs 2] [--keep] [--skip-service] [--title-mb 150]

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
   a small margin (a worker killed at its time-out is replaced). The second round adds a Markdown
   line of 130 KB of ``![`` (quadratic for a backtracking pattern: 60 s before), and an OpenDocument
   file whose title is ``--title-mb`` MB (246 s and 3.3 GB in the main process before): the main
   process's own peak memory is printed for it.
4. A rescan of the suite: what is read again (a file that timed out is not, until it changes).
5. The report server (``gapscan watch --serve``, a real process): 500 clients connecting at once
   (how many get an answer, and how fast), and 40 parallel GETs of a ``--title-mb`` MB file in the
   output folder (the server process's peak memory: files are streamed in 64 KB chunks).
6. Stopping ``gapscan watch`` with SIGTERM: while a slow file is being read (limit 120 s), and while
   the worker waits on a helper that never answers (a ``git`` that sleeps; the process ends after
   the 5 s grace period).

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
    REGEX_BOMBS,
    build_suite,
    remove_tree,
    write_long_title,
    write_million_row_xlsx,
    write_normal_documents,
    write_one_line_text,
    write_xml_bomb,
    write_zip_bomb,
)

from gapscan.scanner.discover import discover  # noqa: E402
from gapscan.scanner.common.documents import Document, Extract  # noqa: E402
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
        self.peak_rss = self.peak_pss = self.peak_hwm = self.peak_main = 0  # KiB
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
            self.peak_main = max(self.peak_main, _status_kib(self.pid, "VmHWM")["VmHWM"])
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
    jobs = [(found.root / c.path, Document(c.path, c.format, c.size, c.mtime)) for c in found.candidates]
    times = []
    last = time.monotonic()
    for result in extract_all(jobs, Limits(timeout_seconds=timeout), 1):
        now = time.monotonic()
        reason = "ok" if isinstance(result, Extract) else result.reason
        times.append((now - last, result.document.path, reason))
        last = now
    return times


# -- the watch service and its report server under hostile load -----------------------------------


def start_watch(tree: Path, work: Path, name: str, *args: str, env: dict | None = None):
    """A real ``gapscan watch --serve`` process, its server address (once it serves) and its log."""
    command = [sys.executable, "-m", "gapscan.scanner", "watch", str(tree), "--out", str(work / f"out-{name}"),
               "--index", str(work / f"{name}.sqlite"), "--framework", "iso9001-2015", "--jobs", "1",
               "--serve", "127.0.0.1:0", *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [m.group(1) for line in list(lines) if (m := re.search(r"at (http://127\.0\.0\.1:\d+)/", line))]
        if found:
            return process, found[0], lines
        time.sleep(0.05)
    process.kill()
    raise SystemExit("the watch service did not start: " + "".join(lines)[-2000:])


def flood(address: str, clients: int, path: str) -> tuple[int, float]:
    """``clients`` connections at once, each a GET of ``path``: (answered with 200, seconds)."""
    import http.client
    from urllib.parse import urlsplit

    host, port = urlsplit(address).hostname, urlsplit(address).port
    barrier, answered = threading.Barrier(clients + 1), []

    def client() -> None:
        barrier.wait()
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            while response.read(1 << 16):
                pass
            answered.append(response.status == 200)
        except OSError:
            answered.append(False)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    return sum(answered), time.monotonic() - started


def service_figures(work: Path, big_mb: int) -> None:
    import signal

    tree = work / "service-tree"
    write_normal_documents(tree)
    process, address, _ = start_watch(tree, work, "serve")
    try:
        time.sleep(3)  # the start-up comparison and the first report
        answered, seconds = flood(address, 500, "/report.json")
        print(f"report server: 500 clients at once -> {answered} answered in {seconds:.2f} s")
        big = work / "out-serve" / "big.html"
        with big.open("wb") as stream:
            for _ in range(big_mb):
                stream.write(os.urandom(MiB))
        sampler = Sampler(process.pid)
        answered, seconds = flood(address, 40, "/big.html")
        sampler.stop()
        print(f"  40 parallel GETs of a {big_mb} MB file: {answered} answered in {seconds:.1f} s; server process "
              f"peak {sampler.peak_main / KiB:.0f} MiB (VmHWM), "
              f"{sampler.peak_rss / KiB:.0f} MiB summed RSS of its tree")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)

    slow_tree = work / "slow-tree"
    write_normal_documents(slow_tree)
    write_slow_pdf(slow_tree / "slow.pdf", operations=2_000_000)
    (work / "slow.toml").write_text("[limits]\ntimeout_seconds = 120\n", encoding="utf-8")
    fake = work / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "git").write_text("#!/bin/sh\nexec sleep 600\n", encoding="utf-8")
    (fake / "git").chmod(0o755)
    cases = {
        "while a slow file is read (limit 120 s)": (slow_tree, ("--config", str(work / "slow.toml")), None),
        "while waiting on a helper that never answers":
            (tree, (), {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}),
    }
    for what, (root, args, env) in cases.items():
        process, _, lines = start_watch(root, work, f"stop-{len(what)}", *args, env=env)
        time.sleep(2)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(120)
        print(f"SIGTERM {what}: stopped in {time.monotonic() - started:.1f} s, exit code {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5, help="timeout_seconds per file (default 5)")
    parser.add_argument("--jobs", type=int, default=2, help="workers for the whole-suite scan (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per delay measurement; the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--skip-service", action="store_true", help="skip the report server and SIGTERM figures")
    parser.add_argument("--title-mb", type=int, default=150, help="size of the huge title and the served file (MB)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gapscan-hostile-bench-"))
    try:
        (work / "gapscan.toml").write_text(f"[limits]\ntimeout_seconds = {args.timeout}\n", encoding="utf-8")
        secret = work / "secret.txt"
        secret.write_text("BENCHMARK-SECRET", encoding="utf-8")

        # 1. The whole suite, memory sampled.
        started = time.monotonic()
        expect, normal, refused = build_suite(work / "suite", secret=secret, url="http://127.0.0.1:9",
                                              timeout_seconds=args.timeout)
        print(f"built the hostile suite: {len(expect)} files ({len(normal)} ordinary) and {len(refused)} to "
              f"refuse (symlinks out of the tree, a FIFO, a socket) in {time.monotonic() - started:.1f} s")
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
            "image-openers.md": lambda p: p.write_text(f"# Audit\n\n{REGEX_BOMBS['image-openers.md']}\n", "utf-8"),
            f"title-{args.title_mb}mb.odt": lambda p: write_long_title(p, chars=args.title_mb * MiB),
        }
        worst = 0.0
        for name, writer in heavy.items():
            tree = work / f"with-{name}"
            write_normal_documents(tree)
            writer(tree / name)
            runs = [run_scan(tree, work, 1, f"with-{name}-{n}", sample=True) for n in range(args.repeat)]
            seconds, report, sampler = min(runs, key=lambda run: run[0])
            (entry,) = [d for d in report["documents"] if d["path"] == name]
            delay = seconds - base_seconds
            worst = max(worst, delay)
            outcome = entry["status"] if entry["status"] == "ok" else f"{entry['status']}: {entry['reason']}"
            html = (work / f"out-with-{name}-0" / "report.html").stat().st_size
            print(f"  + {name:22} {seconds:5.1f} s, delay {delay:5.1f} s "
                  f"(limit {args.timeout:g} s, over by {max(delay - args.timeout, 0):.1f} s) -> {outcome}; "
                  f"main process peak {sampler.peak_main / KiB:.0f} MiB, report.html {html / KiB:.0f} KiB")
        print(f"  worst delay {worst:.1f} s against a limit of {args.timeout:g} s")

        # 4. A rescan of the suite: only what has to be is read again.
        seconds, report, _ = run_scan(work / "suite", work, args.jobs, "suite")
        print(f"rescan of the suite: {seconds:.1f} s (the first scan: see above); "
              f"timed out again: {sum((d['reason'] or '').startswith('timed out') for d in report['documents'])} "
              "file(s), from the index without a new attempt")

        if not args.skip_service:
            service_figures(work, args.title_mb)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            remove_tree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
