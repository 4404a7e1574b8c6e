"""The SQLite index: files by path (size, mtime, content hash), extracted text cached by content
hash and extractor version, and the history of scans.

An unchanged file (same size and mtime) is neither hashed nor read again; a renamed or copied file
with known content reuses the cached extract.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path

import platformdirs

from gapscan.scanner.documents import Document, Extract, Metadata, Section, Unreadable

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS extracts (
    sha256 TEXT NOT NULL,
    extractor INTEGER NOT NULL,
    status TEXT NOT NULL,          -- ok / unreadable / skipped
    reason TEXT,
    payload TEXT,                  -- JSON: sections, metadata, warnings
    PRIMARY KEY (sha256, extractor)
);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finished TEXT NOT NULL,
    documents INTEGER NOT NULL,
    readable INTEGER NOT NULL,
    coverage TEXT NOT NULL         -- JSON: framework id -> coverage
);
"""


class IndexUnusable(RuntimeError):
    """The index file cannot be used (corrupt, from a newer gapscan, or not writable)."""


def default_index_path(root: Path) -> Path:
    """The index for a scanned root lives in the user cache directory, keyed by the root's path."""
    key = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("gapscan")) / "index" / f"{root.name or 'root'}-{key}.sqlite"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class Index:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                self._db.commit()
            elif int(row[0]) > SCHEMA_VERSION:
                raise IndexUnusable(f"{path}: made by a newer gapscan (schema {row[0]})")
        except sqlite3.DatabaseError as exc:
            raise IndexUnusable(f"{path}: the index is unusable ({exc}); delete it to rebuild") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- files ---------------------------------------------------------------------------------

    def known_hash(self, path: str, size: int, mtime: float) -> str | None:
        """The content hash recorded for a path, if the file still has the same size and mtime."""
        row = self._db.execute("SELECT size, mtime, sha256 FROM files WHERE path=?", (path,)).fetchone()
        if row and row[0] == size and row[1] == mtime:
            return row[2]
        return None

    def record_files(self, documents: list[Document]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO files (path, size, mtime, sha256) VALUES (?, ?, ?, ?)",
            [(d.path, d.size, d.mtime, d.sha256) for d in documents],
        )
        self._db.commit()

    def forget(self, path: str) -> None:
        self._db.execute("DELETE FROM files WHERE path=?", (path,))
        self._db.commit()

    def forget_missing(self, present: set[str]) -> int:
        """Drop rows for files no longer on disk; returns how many."""
        gone = [p for (p,) in self._db.execute("SELECT path FROM files") if p not in present]
        self._db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone])
        self._db.commit()
        return len(gone)

    # -- extracts ------------------------------------------------------------------------------

    def cached(self, document: Document, extractor: int) -> Extract | Unreadable | None:
        row = self._db.execute(
            "SELECT status, reason, payload FROM extracts WHERE sha256=? AND extractor=?",
            (document.sha256, extractor),
        ).fetchone()
        if row is None:
            return None
        status, reason, payload = row
        if status != "ok":
            return Unreadable(document, reason or "unreadable", skipped=status == "skipped")
        data = json.loads(payload)
        return Extract(
            document=document,
            sections=tuple(Section(**s) for s in data["sections"]),
            metadata=Metadata(**{**data["metadata"], "dates_in_text": tuple(data["metadata"]["dates_in_text"])}),
            warnings=tuple(data["warnings"]),
        )

    def store(self, results: list[Extract | Unreadable], extractor: int) -> None:
        rows = []
        for result in results:
            if isinstance(result, Extract):
                payload = json.dumps(
                    {
                        "sections": [asdict(s) for s in result.sections],
                        "metadata": asdict(result.metadata),
                        "warnings": list(result.warnings),
                    },
                    ensure_ascii=False,
                )
                rows.append((result.document.sha256, extractor, "ok", None, payload))
            elif is_cacheable(result):
                status = "skipped" if result.skipped else "unreadable"
                rows.append((result.document.sha256, extractor, status, result.reason, None))
        self._db.executemany("INSERT OR REPLACE INTO extracts VALUES (?, ?, ?, ?, ?)", rows)
        self._db.commit()

    # -- scan history --------------------------------------------------------------------------

    def record_scan(self, finished: str, documents: int, readable: int, coverage: dict[str, float]) -> None:
        self._db.execute(
            "INSERT INTO scans (finished, documents, readable, coverage) VALUES (?, ?, ?, ?)",
            (finished, documents, readable, json.dumps(coverage, sort_keys=True)),
        )
        self._db.commit()

    def history(self, limit: int = 50) -> list[dict]:
        rows = self._db.execute(
            "SELECT finished, documents, readable, coverage FROM scans ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            {"finished": f, "documents": d, "readable": r, "coverage": json.loads(c)}
            for f, d, r, c in reversed(rows)
        ]


def is_cacheable(result: Unreadable) -> bool:
    """Failures that depend on the file's content are cached; time-outs and crashes may be
    transient (a busy machine), so those files are tried again on the next scan."""
    return not result.reason.startswith(("timed out", "extraction crashed", "cannot read"))
