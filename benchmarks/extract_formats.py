"""Extraction cost per format (issue 14): every document under a folder read by ``extract_file`` in
this process, one after the other, timed in CPU seconds (the machine is shared: wall time says
more about the neighbours than about the code).

    python benchmarks/extract_formats.py FOLDER [--format docx --format xlsx ...]

Prints one line per format (files, CPU seconds, milliseconds per file) and one JSON line. Run it with
two interpreters (two venvs, two branches) on the same folder to compare extractors.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from gapscan.scanner.common.documents import Document, format_of
from gapscan.scanner.extract import Limits, extract_file
from gapscan.scanner.extract.language import load_detector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--format", action="append", dest="formats", help="only this format (repeatable)")
    arguments = parser.parse_args()
    load_detector()  # once, as extract_all does before its workers start
    limits = Limits()
    files: Counter[str] = Counter()
    seconds: dict[str, float] = {}
    for path in sorted(p for p in arguments.folder.rglob("*") if p.is_file()):
        fmt = format_of(path.name)
        if fmt is None or (arguments.formats and fmt not in arguments.formats):
            continue
        document = Document(path.relative_to(arguments.folder).as_posix(), fmt, 0, 0.0)
        start = time.process_time()
        extract_file(path, document, limits)
        seconds[fmt] = seconds.get(fmt, 0.0) + time.process_time() - start
        files[fmt] += 1
    result = {
        fmt: {
            "files": files[fmt],
            "cpu_s": round(seconds[fmt], 2),
            "ms_per_file": round(1000 * seconds[fmt] / files[fmt], 1),
        }
        for fmt in sorted(files)
    }
    for fmt, figures in result.items():
        print(f"{fmt:6} {figures['files']:6} files {figures['cpu_s']:8.2f} s CPU {figures['ms_per_file']:8.1f} ms/file")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
