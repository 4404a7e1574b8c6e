"""Labelled documents for training and evaluation (docs/accuracy.md describes the format).

A labels file is TSV or CSV with a header: ``path`` (relative to the corpus root), ``iso9001`` and
``cmmi`` (semicolon-separated requirement ids), and optionally ``exclude`` (any non-empty value
leaves the row out of training and scoring) and ``lang`` (the document's languages, ISO 639-1,
semicolon-separated). Other columns are ignored.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.reading import InputError, read_text

# Which labels column holds which framework's ids.
COLUMNS = {"iso9001-2015": "iso9001", "cmmi-v2-dev": "cmmi"}


class LabelsError(ValueError, GapscanError):
    pass


@dataclass(frozen=True)
class Labelled:
    path: str
    labels: dict[str, frozenset[str]]  # framework -> label classes (see label_class)
    exclude: str = ""
    languages: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The source family: the first folder of the path (one organisation's repository)."""
        return self.path.split("/", 1)[0]


def label_class(framework: str, requirement_id: str) -> str:
    """The granularity labels are given and scored at: ISO clauses at level 2 (``8.3.4`` -> ``8.3``),
    CMMI practices at practice-area level (``PQA 2.1`` -> ``PQA``). Other frameworks: the id."""
    if framework == "iso9001-2015":
        return ".".join(requirement_id.split(".")[:2])
    if framework == "cmmi-v2-dev":
        return requirement_id.split(" ", maxsplit=1)[0]
    return requirement_id


def load_labels(path: Path) -> list[Labelled]:
    try:
        text = read_text(path)
    except InputError as exc:
        raise LabelsError(str(exc)) from None
    header = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in header else ","
    try:
        rows = list(csv.DictReader(text.splitlines(), delimiter=delimiter))
    except csv.Error as exc:  # a NUL byte, a field past the csv module's size limit
        raise LabelsError(f"{path}: not a valid labels table ({exc})") from None
    if not rows or "path" not in rows[0]:
        raise LabelsError(f"{path}: needs a header with a 'path' column and at least one row")
    present = [f for f, column in COLUMNS.items() if column in rows[0]]
    if not present:
        raise LabelsError(f"{path}: needs at least one of the columns {', '.join(COLUMNS.values())}")
    labelled = []
    for number, row in enumerate(rows, 1):
        # A short row leaves its missing columns None; a long one puts the rest under None.
        if not isinstance(row.get("path"), str) or not row["path"].strip():
            raise LabelsError(f"{path}: row {number} has no path")
        labels = {}
        for framework in present:
            ids = (row.get(COLUMNS[framework]) or "").split(";")
            labels[framework] = frozenset(label_class(framework, i.strip()) for i in ids if i.strip())
        languages = tuple(code.strip() for code in (row.get("lang") or "").split(";") if code.strip())
        labelled.append(Labelled(row["path"].strip(), labels, (row.get("exclude") or "").strip(), languages))
    return labelled


def training_hash(labelled: list[Labelled], content_hashes: dict[str, str]) -> str:
    """Changes when a label or a labelled document's content changes, and only then."""
    digest = hashlib.sha256()
    for item in sorted(labelled, key=lambda i: i.path):
        parts = [item.path, item.exclude, content_hashes.get(item.path, "")]
        parts += [f"{f}={','.join(sorted(v))}" for f, v in sorted(item.labels.items())]
        digest.update("\t".join(parts).encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()
