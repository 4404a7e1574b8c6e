"""Peak memory against the number of documents (issue 14): a generated corpus scanned as it is, then
side by side ``--copies`` times (that many times the paths, the same contents), each cold and
again with nothing changed, with the peak resident memory of the whole process tree and of the
scan's own process.

    python benchmarks/flatness.py --corpus DIR [--copies 5] [--gapscan EXE] [--jobs 2] [--work DIR]

The copies are hard links, so they cost no disk and read the same bytes. The index is keyed by
content, so the workers read each content once and take the copies' text from the index; every
path is still hashed, scored, decided and reported. What grows with the number of documents is
the coordinating process (documents held, scores decided, reports written), and that is fully
measured; a worker's memory depends on the largest document it reads, not on how many there are.
Generating a corpus of N distinct documents takes hours at 50,000 (``../shared/bench``); this
measures the same growth in minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from scale import load, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a gen_corpus.py folder (never written to)")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--gapscan", default=shutil.which("gapscan"), help="gapscan executable to measure")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, help="folder for the linked copies, indexes and reports")
    args = parser.parse_args()
    if not args.gapscan:
        parser.error("no gapscan on PATH: give --gapscan")

    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gapscan-flatness-", dir=args.work) as tmp:
        work = Path(tmp)
        for copies in (1, args.copies):
            tree = work / f"x{copies}"
            for copy in range(1, copies + 1):
                _link_tree(args.corpus, tree / f"copy-{copy}")
            documents = sum(1 for path in tree.rglob("*") if path.is_file() and path.name != "manifest.jsonl")
            scan = [args.gapscan, "scan", str(tree), "--out", str(work / f"report-x{copies}"),
                    "--index", str(work / f"index-x{copies}.sqlite"), "--format", "json", "--quiet",
                    "--jobs", str(args.jobs)]
            row: dict[str, float | int | str] = {"documents": documents, "load_before": load()}
            for step in ("cold", "warm"):
                run = timed(scan)
                row[f"{step}_s"], row[f"{step}_peak_rss_MiB"], row[f"{step}_scan_process_MiB"] = (
                    run.seconds, run.tree_MiB, run.own_MiB)
            row["load_after"] = load()
            results.append(row)
            print(json.dumps(row), flush=True)

    first, last = results[0], results[-1]
    print(f"{'':28}{first['documents']:>12,}{last['documents']:>12,}  growth")
    rows = (("cold_peak_rss_MiB", "cold, process tree (MiB)"), ("cold_scan_process_MiB", "cold, scan process"),
            ("warm_peak_rss_MiB", "rescan, process tree"), ("warm_scan_process_MiB", "rescan, scan process"),
            ("cold_s", "cold (s)"), ("warm_s", "rescan (s)"))
    for key, label in rows:
        growth = float(last[key]) / float(first[key]) - 1
        print(f"{label:28}{first[key]:>12}{last[key]:>12}  {growth:+.0%}")


def _link_tree(source: Path, target: Path) -> None:
    """``source``'s files hard-linked under ``target``, folders made anew."""
    for folder, _, names in os.walk(source):
        made = target / Path(folder).relative_to(source)
        made.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.link(Path(folder) / name, made / name)


if __name__ == "__main__":
    main()
