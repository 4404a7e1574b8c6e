"""The SQLite index: files by path (size, mtime, content hash), extracted text cached by content
hash and extractor version, each document's classifier scores cached by path, content hash and the
fingerprint of what else changes them (``scanner/scoring.py``), the collection's last decision, and
the history of scans.

Text is stored compressed (Zstandard), apart from the little a report needs of a document (metadata,
warnings, language): an extract taken from the index is a :class:`StoredExtract`, whose sections
are read from the index only when asked for, so a scan never holds every document's text at once.

An unchanged file (same size and mtime) is neither hashed nor read again; a renamed or copied file
with known content reuses the cached extract (:class:`KnownContent` answers the extraction
workers, which hash what they read). A file that timed out is remembered by path, size and mtime
(``failures``), so an unchanged one is not tried again until the time limit changes.

Paths are stored as text, except a name that is not valid UTF-8 (Python holds its undecodable bytes
as lone surrogates, which SQLite's text cannot): its exact bytes are stored as a BLOB instead.
Every database error becomes :class:`IndexUnusable`, naming the file and ``--rebuild-index``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs
import zstandard
from gapscan.scanner.common.documents import Document, Extract, Metadata, Section, Unreadable
from gapscan.scanner.common.errors import GapscanError

# 2: text compressed apart from the metadata, and the scores table. 3: text compressed with
# Zstandard, not zlib. 4: the text in a table of its own, so that a rescan, which reads every
# extract's metadata, reads a few megabytes and not a page of text for each. An index of schema 3
# is converted; an older one is emptied and built anew (its scan history is kept).
SCHEMA_VERSION = 4
_REBUILT_TABLES = ("files", "extracts", "texts", "failures", "scores", "decisions", "fingerprints")
# Scores are kept under the fingerprints of this many configurations last used (the frameworks and
# levels scanned, the model, the gapscan version): an upgrade or a changed catalog does not leave
# the scores of every earlier one behind, and a folder scanned with a few configurations in turn is
# not scored again each time.
FINGERPRINTS_KEPT = 3
HISTORY_KEPT = 10_000  # scans in the history; the report shows the latest 50
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
    info TEXT,                     -- JSON: metadata, warnings, language
    PRIMARY KEY (sha256, extractor)
);
CREATE TABLE IF NOT EXISTS texts (  -- the text of each readable extract
    sha256 TEXT NOT NULL,
    extractor INTEGER NOT NULL,
    sections BLOB NOT NULL,        -- Zstandard-compressed JSON: [[locator, text, language], ...]
    PRIMARY KEY (sha256, extractor)
);
CREATE TABLE IF NOT EXISTS scores (   -- classifier scores (Tagger.score), as scanner/scoring.py stores them
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (path, sha256, fingerprint)
);
CREATE TABLE IF NOT EXISTS decisions (  -- the collection's last decision, as scanner/scoring.py stores it
    key TEXT PRIMARY KEY,          -- of what it depends on (scoring.decision_key)
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS fingerprints (  -- which fingerprints scores were last used under, in order
    fingerprint TEXT PRIMARY KEY,
    used INTEGER NOT NULL          -- higher: used later
);
CREATE TABLE IF NOT EXISTS failures (  -- failures not cached by content: the file as it was
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finished TEXT NOT NULL,
    documents INTEGER NOT NULL,
    readable INTEGER NOT NULL,
    coverage TEXT NOT NULL         -- JSON: framework id -> coverage
);
"""


class IndexUnusable(RuntimeError, GapscanError):
    """The index file cannot be used (corrupt, from a newer gapscan, or not writable)."""


REBUILD_HINT = "run the scan again with --rebuild-index to delete it and build it anew"
# Files SQLite keeps beside the database in WAL mode.
_SIDE_FILES = ("-wal", "-shm", "-journal")


def remove_index(path: Path) -> None:
    """Delete an index file and the files SQLite keeps beside it (``--rebuild-index``)."""
    for suffix in ("", *_SIDE_FILES):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise IndexUnusable(f"{path}{suffix}: cannot delete the index: {exc.strerror or exc}") from exc


def _unusable(path: Path, exc: BaseException) -> IndexUnusable:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return IndexUnusable(f"{path}: the index is in use by another gapscan ({exc}); try again later")
    return IndexUnusable(f"{path}: the index is unusable ({exc}); {REBUILD_HINT}")


class _Undecodable(ValueError):
    """Stored data that decompresses and parses but does not add up."""


def _guarded(method):
    """Turn a database failure or stored data that no longer decodes inside ``method`` into
    :class:`IndexUnusable`. Anything else (a bug of gapscan's own) is not corruption and propagates."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, zstandard.ZstdError, json.JSONDecodeError, UnicodeDecodeError, _Undecodable) as exc:
            raise _unusable(self.path, exc) from exc

    return wrapper


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _key(path: str) -> str | bytes:
    """How a path is stored: text, or the name's exact bytes where it is not valid UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")
    return path


def _path(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def default_index_path(root: Path) -> Path:
    """The index for a scanned root lives in the user cache directory, keyed by the root's path."""
    key = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("gapscan")) / "index" / f"{(root.name or 'root')[:40]}-{key}.sqlite"


@dataclass(frozen=True)
class KnownContent:
    """Which content hashes the index holds an extract for, asked from the extraction workers: a
    renamed or copied file is hashed there and then taken from the index instead of parsed.
    Picklable; each process opens its own read-only connection on first use."""

    path: Path
    extractor: int

    def __contains__(self, sha256: object) -> bool:
        try:
            row = _reader(self.path).execute(
                "SELECT 1 FROM extracts WHERE sha256=? AND extractor=?", (sha256, self.extractor)
            ).fetchone()
        except sqlite3.Error:
            return False  # parsed again: slower, never wrong
        return row is not None


_READERS: dict[tuple[int, Path], sqlite3.Connection] = {}


def _reader(path: Path) -> sqlite3.Connection:
    key = (os.getpid(), path)  # a connection never crosses a fork
    if key not in _READERS:
        _READERS[key] = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    return _READERS[key]


# Paths asked for in one query (SQLite's limit on a statement's parameters is 32,766).
_QUERY_BATCH = 500
# Zstandard's default level. On the generated corpus's text it compressed 8 times as fast as zlib's
# level 6 did, to 5 % more bytes; decompressing took a third of the time.
_COMPRESSION = 3


def pack_sections(sections: Iterable[Section]) -> bytes:
    """Sections as stored, compressed: a JSON line of each one's locator, length and language, then
    their texts joined (escaping every character of the texts for JSON took eight times as long)."""
    sections = list(sections)
    head = json.dumps([[s.locator, len(s.text), s.language] for s in sections], ensure_ascii=False,
                      separators=(",", ":"))
    return zstandard.compress("\n".join((head, "".join(s.text for s in sections))).encode("utf-8"), _COMPRESSION)


def unpack_sections(blob: bytes) -> tuple[Section, ...]:
    """The sections ``pack_sections`` stored (or an earlier gapscan's JSON list of them)."""
    stored = zstandard.decompress(blob).decode("utf-8")
    head, line_break, texts = stored.partition("\n")  # JSON escapes line breaks: the first ends the head
    if not line_break:
        return tuple(Section(locator, text, language) for locator, text, language in json.loads(stored))
    sections, start = [], 0
    for locator, length, language in json.loads(head):
        sections.append(Section(locator, texts[start:start + length], language))
        start += length
    if start != len(texts):
        raise _Undecodable(f"stored sections hold {len(texts)} characters, their lengths say {start}")
    return tuple(sections)


class StoredExtract(Extract):
    """An extract held in the index: everything but its sections is in memory; the sections are
    read (and decompressed) from the index each time they are asked for. Anything that builds a
    new extract from it (``dataclasses.replace``) gets a plain :class:`Extract`."""

    __slots__ = ("_extractor", "_index")
    _index: Index
    _extractor: int

    def __new__(cls, *args, index: Index | None = None, **kwargs):
        if index is None:
            return Extract(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, document: Document, *, metadata: Metadata, warnings: tuple[str, ...], language: str,
                 index: Index, extractor: int):
        for name, value in (("document", document), ("metadata", metadata), ("warnings", warnings),
                            ("language", language), ("includes", ()), ("_index", index), ("_extractor", extractor)):
            object.__setattr__(self, name, value)

    @property
    def sections(self) -> tuple[Section, ...]:
        return self._index.sections(self.document.sha256, self._extractor)

    def loaded(self) -> Extract:
        """This extract with its sections in memory."""
        return Extract(self.document, self.sections, self.metadata, self.warnings, self.language, self.includes)

    def __hash__(self) -> int:
        return hash(self.loaded())

    def __reduce__(self):
        """Pickled or copied, it is a plain :class:`Extract` (the index does not travel with it)."""
        loaded = self.loaded()
        return (Extract, (loaded.document, loaded.sections, loaded.metadata, loaded.warnings, loaded.language,
                          loaded.includes))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Extract):
            return NotImplemented
        mine = self.loaded()
        return mine == (other.loaded() if isinstance(other, StoredExtract) else other)

    def __repr__(self) -> str:
        return f"StoredExtract(document={self.document!r}, language={self.language!r})"


class Index:
    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnusable(f"{path}: cannot create the index folder: {exc.strerror or exc}") from exc
        try:
            self._db = sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise _unusable(path, exc) from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is not None and int(row[0]) > SCHEMA_VERSION:
                raise IndexUnusable(f"{path}: made by a newer gapscan (schema {row[0]}); {REBUILD_HINT}")
            if row is not None and int(row[0]) == 3:
                self._move_text_apart()
            elif row is not None and int(row[0]) < SCHEMA_VERSION:
                self._rebuild()
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self._db.commit()
        except (sqlite3.Error, ValueError) as exc:
            self._db.close()
            raise _unusable(path, exc) from exc
        except IndexUnusable:
            self._db.close()
            raise
        self._identity = _identity(path)

    def _rebuild(self) -> None:
        """Empty an index of an older schema: everything but the scan history is read anew."""
        for table in _REBUILT_TABLES:
            self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.commit()
        self._db.execute("VACUUM")  # give the old text's pages back to the file system

    def _move_text_apart(self) -> None:
        """Convert an index of schema 3, whose extracts held their text: nothing is read again."""
        self._db.executescript(f"""
            BEGIN;
            ALTER TABLE extracts RENAME TO extracts_with_text;
            {_SCHEMA}
            INSERT INTO texts SELECT sha256, extractor, sections FROM extracts_with_text WHERE sections IS NOT NULL;
            INSERT INTO extracts SELECT sha256, extractor, status, reason, info FROM extracts_with_text;
            DROP TABLE extracts_with_text;
            UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema';
            COMMIT;
        """)
        with contextlib.suppress(sqlite3.Error):  # short of room to copy the file: converted all the same
            self._db.execute("VACUUM")  # the moved text's old pages back to the file system

    def lost(self) -> str | None:
        """Why the open database is no longer the file at ``path`` (deleted, or replaced), if it is
        not: everything written to it then would be gone at the next start."""
        now = _identity(self.path)
        if now is None:
            return f"{self.path}: the index file was deleted"
        if now != self._identity:
            return f"{self.path}: the index file was replaced"
        return None

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- files ---------------------------------------------------------------------------------

    @_guarded
    def record_files(self, documents: list[Document]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO files (path, size, mtime, sha256) VALUES (?, ?, ?, ?)",
            [(_key(d.path), d.size, d.mtime, d.sha256) for d in documents],
        )
        self._db.executemany("DELETE FROM failures WHERE path=?", [(_key(d.path),) for d in documents])
        self._db.commit()

    @_guarded
    def known_failure(self, path: str, size: int, mtime: float) -> str | None:
        """Why the file failed last time, if it still has the same size and mtime."""
        row = self._db.execute("SELECT size, mtime, reason FROM failures WHERE path=?", (_key(path),)).fetchone()
        return row[2] if row and row[0] == size and row[1] == mtime else None

    @_guarded
    def record_failures(self, results: list[Unreadable]) -> None:
        """Remember failures that say something about the file but have no content hash to be cached
        under (a time-out kills the worker before it can tell)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO failures (path, size, mtime, reason) VALUES (?, ?, ?, ?)",
            [(_key(r.document.path), r.document.size, r.document.mtime, r.reason) for r in results],
        )
        self._db.commit()

    @_guarded
    def forget(self, path: str) -> None:
        for table in ("files", "failures"):
            self._db.execute(f"DELETE FROM {table} WHERE path=?", (_key(path),))
        self._db.commit()

    @_guarded
    def forget_missing(self, present: set[str]) -> int:
        """Drop rows for files no longer on disk; returns how many."""
        gone = [p for (p,) in self._db.execute("SELECT path FROM files") if _path(p) not in present]
        self._db.executemany("DELETE FROM files WHERE path=?", [(p,) for p in gone])
        failed = [p for (p,) in self._db.execute("SELECT path FROM failures") if _path(p) not in present]
        self._db.executemany("DELETE FROM failures WHERE path=?", [(p,) for p in failed])
        scored = {p for (p,) in self._db.execute("SELECT DISTINCT path FROM scores") if _path(p) not in present}
        self._db.executemany("DELETE FROM scores WHERE path=?", [(p,) for p in scored])
        self._db.commit()
        return len(gone)

    # -- extracts ------------------------------------------------------------------------------

    @_guarded
    def cached(self, document: Document, extractor: int) -> Extract | Unreadable | None:
        """The extract of this document's content, its sections left in the index."""
        row = self._db.execute(
            "SELECT status, reason, info FROM extracts WHERE sha256=? AND extractor=?",
            (document.sha256, extractor),
        ).fetchone()
        return None if row is None else self._held(document, extractor, *row)

    @_guarded
    def cached_unchanged(self, documents: list[Document], extractor: int) -> dict[str, Extract | Unreadable]:
        """By path, the extracts of those of these documents whose files have the size and mtime
        their content hash was recorded with, in a few queries."""
        found: dict[str, Extract | Unreadable] = {}
        by_path = {document.path: document for document in documents}
        for first in range(0, len(documents), _QUERY_BATCH):
            keys = [_key(document.path) for document in documents[first:first + _QUERY_BATCH]]
            rows = self._db.execute(
                "SELECT files.path, files.size, files.mtime, files.sha256, status, reason, info FROM files "
                "JOIN extracts ON extracts.sha256=files.sha256 AND extractor=? "
                f"WHERE files.path IN ({','.join('?' * len(keys))})",
                (extractor, *keys),
            )
            for key, size, mtime, sha256, status, reason, info in rows:
                document = by_path[_path(key)]
                if document.size == size and document.mtime == mtime:
                    found[document.path] = self._held(
                        Document(document.path, document.format, size, mtime, sha256), extractor, status, reason, info)
        return found

    def _held(self, document: Document, extractor: int, status: str, reason: str | None,
              info: str | None) -> Extract | Unreadable:
        """A stored extract as a scan holds it: its sections left in the index."""
        if status != "ok":
            return Unreadable(document, reason or "unreadable", skipped=status == "skipped")
        data = json.loads(info or "")  # a readable extract without its info is damage (see _guarded)
        return StoredExtract(
            document,
            metadata=Metadata(**{**data["metadata"], "dates_in_text": tuple(data["metadata"]["dates_in_text"])}),
            warnings=tuple(data["warnings"]),
            language=data["language"],
            index=self,
            extractor=extractor,
        )

    @_guarded
    def sections(self, sha256: str, extractor: int) -> tuple[Section, ...]:
        """The sections of a stored extract (read and decompressed each time). Also once the index
        is closed, or from another thread: an extract held after its scan still has its text."""
        query = "SELECT sections FROM texts WHERE sha256=? AND extractor=?"
        try:
            row = self._db.execute(query, (sha256, extractor)).fetchone()
        except sqlite3.ProgrammingError:  # closed, or made in another thread
            with contextlib.closing(sqlite3.connect(f"{Path(self.path).absolute().as_uri()}?mode=ro", uri=True,
                                                    timeout=30)) as db:
                row = db.execute(query, (sha256, extractor)).fetchone()
        if row is None:
            raise IndexUnusable(f"{self.path}: the text of {sha256[:12]} is gone from the index; {REBUILD_HINT}")
        return unpack_sections(row[0])

    @_guarded
    def store(self, results: list[Extract | Unreadable], extractor: int) -> list[Extract | Unreadable]:
        """Store these results; returns them as they are now held (the extracts stored become
        :class:`StoredExtract`, their text no longer in memory)."""
        rows: list[tuple] = []
        texts: list[tuple] = []
        held: list[Extract | Unreadable] = []
        for result in results:
            if isinstance(result, Extract) and result.includes:
                held.append(result)  # its text depends on other files too: read again each scan (LaTeX is quick)
                continue
            if isinstance(result, Extract):
                info = {"metadata": asdict(result.metadata), "warnings": list(result.warnings),
                        "language": result.language}
                sha = result.document.sha256
                rows.append((sha, extractor, "ok", None, json.dumps(info, ensure_ascii=False)))
                texts.append((sha, extractor, pack_sections(result.sections)))
                held.append(StoredExtract(result.document, metadata=result.metadata, warnings=result.warnings,
                                          language=result.language, index=self, extractor=extractor))
                continue
            held.append(result)
            if result.document.sha256 and is_cacheable(result):
                status = "skipped" if result.skipped else "unreadable"
                rows.append((result.document.sha256, extractor, status, result.reason, None))
        self._db.executemany("INSERT OR REPLACE INTO extracts VALUES (?, ?, ?, ?, ?)", rows)
        self._db.executemany("DELETE FROM texts WHERE sha256=? AND extractor=?",
                             [row[:2] for row in rows if row[2] != "ok"])
        self._db.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?, ?)", texts)
        self._db.commit()
        return held

    # -- scores --------------------------------------------------------------------------------

    @_guarded
    def has_scores(self, fingerprint: str) -> bool:
        """Whether any document's scores are stored under this fingerprint."""
        row = self._db.execute("SELECT 1 FROM scores WHERE fingerprint=? LIMIT 1", (fingerprint,)).fetchone()
        return row is not None

    @_guarded
    def use_fingerprint(self, fingerprint: str) -> None:
        """Scores are read and stored under this fingerprint now; those under fingerprints other
        than the ``FINGERPRINTS_KEPT`` last used go."""
        latest, = self._db.execute("SELECT max(used) FROM fingerprints").fetchone()
        if latest is not None and self._db.execute("SELECT 1 FROM fingerprints WHERE fingerprint=? AND used=?",
                                                   (fingerprint, latest)).fetchone():
            return
        self._db.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?)", (fingerprint, (latest or 0) + 1))
        latest_first = "SELECT fingerprint FROM fingerprints ORDER BY used DESC LIMIT ?"
        kept = [value for (value,) in self._db.execute(latest_first, (FINGERPRINTS_KEPT,))]
        marks = ",".join("?" * len(kept))
        self._db.execute(f"DELETE FROM scores WHERE fingerprint NOT IN ({marks})", kept)
        self._db.execute(f"DELETE FROM fingerprints WHERE fingerprint NOT IN ({marks})", kept)
        self._db.commit()

    @_guarded
    def cached_scores_of(self, documents: list[tuple[str, str]], fingerprint: str) -> dict[tuple[str, str], bytes]:
        """The scores stored under this fingerprint for these (path, content hash) pairs, as stored,
        by pair; a pair without stored scores is left out. One query for many documents."""
        found: dict[tuple[str, str], bytes] = {}
        wanted = set(documents)
        for first in range(0, len(documents), _QUERY_BATCH):
            keys = [_key(path) for path, _ in documents[first:first + _QUERY_BATCH]]
            marks = ",".join("?" * len(keys))
            rows = self._db.execute(
                f"SELECT path, sha256, payload FROM scores WHERE fingerprint=? AND path IN ({marks})",
                (fingerprint, *keys),
            )
            for path, sha256, payload in rows:
                pair = (_path(path), sha256)
                if pair in wanted:
                    found[pair] = payload
        return found

    @_guarded
    def store_scores(self, scores: list[tuple[str, str, bytes]], fingerprint: str) -> None:
        """Store (path, content hash, scores as stored) under this fingerprint; the scores of
        a path's earlier content go."""
        self._db.executemany(
            "DELETE FROM scores WHERE path=? AND sha256!=?", [(_key(path), sha256) for path, sha256, _ in scores]
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
            [(_key(path), sha256, fingerprint, stored) for path, sha256, stored in scores],
        )
        self._db.commit()

    @_guarded
    def decision(self, key: str) -> bytes | None:
        """The collection's decision stored under this key, as stored; None if the last one stored
        has another key."""
        row = self._db.execute("SELECT payload FROM decisions WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    @_guarded
    def store_decision(self, key: str, stored: bytes) -> None:
        """Keep the collection's decision under its key, in place of the one kept before."""
        self._db.execute("DELETE FROM decisions")
        self._db.execute("INSERT INTO decisions VALUES (?, ?)", (key, stored))
        self._db.commit()

    # -- scan history --------------------------------------------------------------------------

    @_guarded
    def record_scan(self, finished: str, documents: int, readable: int, coverage: dict[str, float]) -> None:
        """Add a scan to the history, which keeps the newest ``HISTORY_KEPT`` (a watch service records
        every batch, for months)."""
        cursor = self._db.execute(
            "INSERT INTO scans (finished, documents, readable, coverage) VALUES (?, ?, ?, ?)",
            (finished, documents, readable, json.dumps(coverage, sort_keys=True)),
        )
        newest = cursor.lastrowid
        assert newest is not None  # an INSERT sets it
        self._db.execute("DELETE FROM scans WHERE id <= ?", (newest - HISTORY_KEPT,))
        self._db.commit()

    @_guarded
    def history(self, limit: int = 50) -> list[dict]:
        rows = self._db.execute(
            "SELECT finished, documents, readable, coverage FROM scans ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            {"finished": f, "documents": d, "readable": r, "coverage": json.loads(c)}
            for f, d, r, c in reversed(rows)
        ]


def stored_extracts(path: Path, sha256: str | None = None) -> list[str]:
    """Everything the index at ``path`` holds of each extract (of one content hash, if given), as
    text: its metadata and sections. For checking what reached the index."""
    query = ("SELECT coalesce(info, '') || coalesce(reason, ''), sections FROM extracts "
             "LEFT JOIN texts USING (sha256, extractor)")
    with sqlite3.connect(path) as db:
        rows = db.execute(query + " WHERE sha256=?", (sha256,)) if sha256 else db.execute(query)
        return [info + (json.dumps([[s.locator, s.text, s.language] for s in unpack_sections(sections)],
                                   ensure_ascii=False) if sections else "")
                for info, sections in rows]


# Failures that say nothing about the content: transient (a busy machine, a file being replaced),
# about the file system (permissions), or set by limits the user may raise. Not cached.
_NOT_CACHED = (
    "timed out",
    "extraction crashed",
    "cannot read",
    "could not read",
    "file vanished",
    "permission denied",
    "out of memory",
    "too large",
    "zip bomb suspected",
)


def is_cacheable(result: Unreadable) -> bool:
    """Failures that depend on the file's content alone are cached by content hash; the others
    (see ``_NOT_CACHED``) are tried again on the next scan."""
    return not result.reason.startswith(_NOT_CACHED)
