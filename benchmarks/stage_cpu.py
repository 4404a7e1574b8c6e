"""A worker's cost per document by stage and format (issue 14): every document under a folder read
by ``extract_file`` and scored by the scan's scorer in this process, one after the other, timed in
CPU seconds (the machine is shared: wall time says more about the neighbours than about the code).

    python benchmarks/stage_cpu.py FOLDER [--profile OUT.prof] [--scores OUT.json]

Prints one line per format (files, extraction and scoring milliseconds per file) and one JSON line.
``--scores`` writes every document's scores as the worker hands them over: two branches that
write the same file score the same documents bit for bit. ``--profile`` writes a cProfile dump of
both stages.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from gapscan.scanner.common.documents import Document, Extract, format_of
from gapscan.scanner.config import load_config
from gapscan.scanner.extract import Limits, extract_file
from gapscan.scanner.extract.language import load_detector
from gapscan.scanner.pipeline import Scanner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--profile", type=Path, help="write a cProfile dump of both stages here")
    parser.add_argument("--scores", type=Path, help="write every document's scores here (JSON)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scanner = Scanner(arguments.folder, load_config(arguments.folder), index_path=Path(scratch) / "index.sqlite")
        scorer = scanner.scorer
        scorer.tagger()  # profiles fitted before the clock starts, as in a worker
        scanner.close()
    load_detector()
    limits = Limits()
    profile = cProfile.Profile() if arguments.profile else None
    files: Counter[str] = Counter()
    extracting: dict[str, float] = {}
    scoring: dict[str, float] = {}
    scores: dict[str, bytes | None] = {}
    for path in sorted(p for p in arguments.folder.rglob("*") if p.is_file()):
        fmt = format_of(path.name)
        if fmt is None:
            continue
        document = Document(path.relative_to(arguments.folder).as_posix(), fmt, 0, 0.0)
        if profile:
            profile.enable()
        start = time.process_time()
        result = extract_file(path, document, limits)
        extracted = time.process_time()
        scores[document.path] = scorer(result) if isinstance(result, Extract) else None
        scored = time.process_time()
        if profile:
            profile.disable()
        files[fmt] += 1
        extracting[fmt] = extracting.get(fmt, 0.0) + extracted - start
        scoring[fmt] = scoring.get(fmt, 0.0) + scored - extracted
    result_by_format = {
        fmt: {
            "files": files[fmt],
            "extract_ms_per_file": round(1000 * extracting[fmt] / files[fmt], 1),
            "score_ms_per_file": round(1000 * scoring[fmt] / files[fmt], 1),
        }
        for fmt in sorted(files)
    }
    for fmt, figures in result_by_format.items():
        print(f"{fmt:6} {figures['files']:6} files  extract {figures['extract_ms_per_file']:8.1f} ms/file  "
              f"score {figures['score_ms_per_file']:8.1f} ms/file")
    print(f"total  {sum(files.values()):6} files  extract {sum(extracting.values()):8.2f} s CPU  "
          f"score {sum(scoring.values()):8.2f} s CPU")
    print(json.dumps(result_by_format))
    if profile and arguments.profile:
        profile.dump_stats(arguments.profile)
    if arguments.scores:
        stored = {path: value and value.hex() for path, value in scores.items()}  # the stored form's bytes
        arguments.scores.write_text(json.dumps(stored, sort_keys=True), encoding="utf-8")


if __name__ == "__main__":
    main()
