"""Hostile and broken input, scanned together with ordinary documents in one real scan.

The suite (``fixtures/hostile.py``) holds zip bombs, XML entity attacks, malformed PDFs, truncated,
random and empty files of every format, huge files, odd file names, deep folders, symlink loops and
files that vanish mid-scan. One scan reads it all (module fixture); the tests then check that the
scan finished in time, that each hostile file is listed as unreadable with the right reason, that
every ordinary document is still read and classified, and that the reports stay inert.
Unreadable files (permission denied) need a non-root reader: that test drops privileges.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import socket
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

import pytest
import zstandard
from gapscan.classifiers.labels import label_class
from gapscan.reports.gate import Publication
from gapscan.reports.model import GapReport
from gapscan.scanner import pipeline
from gapscan.scanner.common.documents import Document, format_of
from gapscan.scanner.common.names import name_bytes
from gapscan.scanner.config import Config
from gapscan.scanner.discover import display_path
from gapscan.scanner.extract import Limits, extract_file
from gapscan.scanner.index import stored_extracts
from gapscan.scanner.output import FORMATS, write_reports
from gapscan.scanner.pipeline import ScanResult, scan

from fixtures.hostile import (
    BYTES_NAMES,
    HOSTILE_NAMES,
    NORMAL_SPECS,
    TRICKY_NAMES,
    build_suite,
    remove_tree,
    write_normal_documents,
)

# Small enough that the suite's slow PDF times out quickly, large enough for a loaded CI machine to
# read the million-row workbook up to the character budget before it.
LIMITS = Limits(timeout_seconds=6, max_chars=100_000)
MARGIN_SECONDS = 30  # the whole scan, beyond the one time-out it must sit through
SECRET = "TOP-SECRET-MARKER-7c1e"
TODAY = date(2026, 11, 25)


@dataclass
class Scanned:
    root: Path
    out: Path
    index: Path
    result: ScanResult
    expect: dict
    normal: list[str]
    refused: dict[str, str]
    seconds: float
    connections: list[bytes]


class _Listener:
    """A local TCP server that records every connection: an external entity must never call it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.connections: list[bytes] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.connections.append(connection.recv(200) or b"(connected)")
                except OSError:
                    self.connections.append(b"(connected)")

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.server.close()


# Files that change between discovery and reading: gone, replaced by a FIFO (opening it would
# block for good), replaced by a symlink to a file outside the tree.
VANISHED = "vanish/gone.md"
BECAME_FIFO = "vanish/became-fifo.md"
BECAME_LINK = "vanish/became-link.md"


@pytest.fixture(scope="module")
def hostile() -> Scanned:
    # Not under pytest's temporary folder: its clean-up recurses once per folder level and fails
    # on the suite's 1,100-level tree, even in a later session if this one is interrupted.
    work = Path(tempfile.mkdtemp(prefix="gapscan-hostile-"))
    try:
        yield _scan_suite(work)
    finally:
        remove_tree(work)


def _scan_suite(work: Path) -> Scanned:
    secret = work / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    listener = _Listener()
    try:
        root = work / "tree"
        expect, normal, refused = build_suite(root, secret=secret, url=listener.url,
                                              timeout_seconds=LIMITS.timeout_seconds)
        for relative in (VANISHED, BECAME_FIFO, BECAME_LINK):
            (root / relative).parent.mkdir(exist_ok=True)
            (root / relative).write_bytes(b"# Audit\n\nSoon something else.\n")
        expect[VANISHED] = ("unreadable", "cannot read: No such file or directory")
        expect[BECAME_FIFO] = ("unreadable", "a FIFO (named pipe), not a regular file: never opened")
        expect[BECAME_LINK] = ("unreadable", f"a symlink that leads outside the scanned folder (to {secret})")

        discover = pipeline.discover

        def discover_then_change(*args, **kwargs):
            found = discover(*args, **kwargs)
            for relative in (VANISHED, BECAME_FIFO, BECAME_LINK):
                (root / relative).unlink()
            os.mkfifo(root / BECAME_FIFO)
            os.symlink(secret, root / BECAME_LINK)
            return found

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pipeline, "discover", discover_then_change)
            started = time.monotonic()
            result = scan(root, Config(limits=LIMITS), index_path=work / "index.sqlite", jobs=2, today=TODAY)
            seconds = time.monotonic() - started
        out = work / "out"
        write_reports(result.report, out, FORMATS)
    finally:
        listener.close()
    return Scanned(root, out, work / "index.sqlite", result, expect, normal, refused, seconds, listener.connections)


def by_path(report: GapReport) -> dict:
    return {document.path: document for document in report.documents}


# --- permission denied (first: it forks, best before the module fixture starts threads) ------


NOBODY = 65534


def test_unreadable_files_as_a_non_root_user(tmp_path):
    """A file and a folder the scanning user may not read: the scan goes on and says why.

    Root reads everything, so the scan runs in a forked child that drops to ``nobody`` (the
    interpreter's own files may be out of nobody's reach, so the child does not exec: it uses the
    modules this process already imported)."""
    if os.name != "posix":
        pytest.skip("permissions are POSIX-only here")
    work = Path(tempfile.mkdtemp(prefix="gapscan-perm-"))
    try:
        _run_permission_scan(work)
    finally:
        for folder, _, _ in os.walk(work):
            os.chmod(folder, 0o755)
        remove_tree(work)


def _run_permission_scan(work: Path) -> None:
    os.chmod(work, 0o755)
    root = work / "tree"
    root.mkdir()
    normal = write_normal_documents(root)
    locked_file = root / "records" / "locked-audit-report.md"
    locked_file.parent.mkdir()
    locked_file.write_text("# Internal audit report\n\nFindings.\n", encoding="utf-8")
    (root / "locked-folder").mkdir()
    (root / "locked-folder" / "hidden.md").write_text("# Hidden\n", encoding="utf-8")
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    state = work / "state"
    state.mkdir()
    config = Config(limits=LIMITS)
    # Warm up as root: every module the scan and its workers need gets imported in this process
    # (workers are forked from it), codecs that parsers look up lazily included.
    for path in sorted(root.rglob("*.*")):
        extract_file(path, Document(path.name, format_of(path.name), 1, 0.0), config.limits)
    warm = scan(root, config, index_path=work / "warm.sqlite", jobs=1, today=TODAY)
    write_reports(warm.report, work / "warm-out", ("html", "json"))
    os.chmod(locked_file, 0)
    os.chmod(root / "locked-folder", 0)
    if os.geteuid() == 0:
        os.chown(state, NOBODY, NOBODY)
    elif os.access(locked_file, os.R_OK):
        pytest.skip("cannot make a file unreadable for this user")

    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            result = scan(root, config, index_path=state / "index.sqlite", jobs=2, today=TODAY)
            write_reports(result.report, state / "out", ("html", "json"))
            code = 0
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            with contextlib.suppress(OSError):
                (state / "error.txt").write_text(repr(error), encoding="utf-8")
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    error = (state / "error.txt").read_text(encoding="utf-8") if (state / "error.txt").exists() else ""
    assert os.waitstatus_to_exitcode(status) == 0, error
    report = json.loads((state / "out" / "report.json").read_text(encoding="utf-8"))
    documents = {d["path"]: d for d in report["documents"]}
    locked = documents["records/locked-audit-report.md"]
    assert (locked["status"], locked["reason"]) == ("unreadable", "cannot read: Permission denied")
    assert "locked-folder/hidden.md" not in documents
    for relative in normal:
        assert documents[relative]["status"] == "ok" and documents[relative]["tags"], documents[relative]["reason"]
    html = (state / "out" / "report.html").read_text(encoding="utf-8")
    assert "locked-folder: cannot list folder: Permission denied" in html


# --- the hostile scan ------------------------------------------------------------------------


def test_the_scan_finishes_in_time(hostile):
    # The slow PDF costs one time-out; nothing else may hold the scan up.
    assert hostile.seconds < LIMITS.timeout_seconds + MARGIN_SECONDS, hostile.seconds
    assert hostile.result.stats.discovered == len(hostile.expect)


def test_every_hostile_file_is_listed_with_an_accurate_reason(hostile):
    documents = by_path(hostile.result.report)
    wrong = {}
    for relative, expected in hostile.expect.items():
        shown = display_path(relative)
        document = documents.get(shown)
        if document is None:
            wrong[shown] = "missing from the report"
            continue
        if isinstance(expected, tuple):
            status, prefix = expected
            ok = document.status == status and (document.reason or "").startswith(prefix)
        else:
            ok = expected.check(document.status, document.reason)
        if not ok:
            wrong[shown] = (document.status, document.reason)
        if document.status != "ok":
            assert not document.tags, f"{shown}: an unreadable file counts as evidence"
    assert not wrong, wrong
    assert set(documents) == {display_path(p) for p in hostile.expect}, "unexpected documents"


def test_deep_and_looping_folders_end_in_warnings_not_failures(hostile):
    warnings = hostile.result.report.warnings
    (too_deep,) = [w for w in warnings if w.startswith("fs/too-deep/")]
    assert too_deep.endswith(": cannot list folder: File name too long") and len(too_deep) < 300
    assert "…" in too_deep  # a 4,000-character path, shortened
    # The folder loop fs/loops/up -> .. is cut: nothing is read twice.
    assert not any("/up/" in d.path for d in hostile.result.report.documents)


def test_only_regular_files_inside_the_tree_are_read_and_each_refusal_is_listed(hostile):
    """Symlinks out of the tree (to a secret, to /etc, to /proc/self/pagemap) and special files (a
    FIFO, a socket) are listed with their reason and never read; a symlink that stays inside is."""
    warnings = hostile.result.report.warnings
    for relative, reason in hostile.refused.items():
        assert any(w.startswith(f"{relative}: {reason}") for w in warnings), (relative, warnings)
    documents = by_path(hostile.result.report)
    assert not any(p.startswith(("fs/links/etc/", "fs/links/outside-folder/")) for p in documents)
    assert documents["fs/links/inside.md"].status == "ok" and documents["fs/links/inside.md"].tags
    html = (hostile.out / "report.html").read_text(encoding="utf-8")
    assert "fs/pipe.txt: a FIFO (named pipe), not a regular file: never opened" in html
    # Nothing from outside reached the index or any report, the secret least of all.
    payloads = "".join(stored_extracts(hostile.index))
    assert SECRET not in payloads and "root:x:0:0" not in payloads


def test_every_normal_document_is_still_classified(hostile, tmp_path):
    """Evidence for the same clauses and practice areas as in a scan of the ordinary documents alone.
    Which practices of an area count can differ: they are weighed against the folder (its baseline),
    and the hostile folder holds more documents."""
    clean_root = tmp_path / "clean"
    write_normal_documents(clean_root)
    clean = scan(clean_root, Config(limits=LIMITS), index_path=tmp_path / "clean.sqlite", jobs=2, today=TODAY)

    def classes(document):
        return {(t.framework, label_class(t.framework, t.requirement)) for t in document.tags}

    expected = {d.path: classes(d) for d in clean.report.documents}
    documents = by_path(hostile.result.report)
    for relative in NORMAL_SPECS:
        document = documents[relative]
        assert document.status == "ok", (relative, document.reason)
        assert expected[relative], f"{relative}: the ordinary document itself has no tags"
        assert classes(document) == expected[relative], relative
    for relative in ("names/" + name for name in HOSTILE_NAMES):
        assert documents[relative].status == "ok" and documents[relative].tags, relative


def test_no_external_entity_was_fetched_or_read(hostile):
    assert hostile.connections == []
    for path in hostile.out.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path.name
    payloads = stored_extracts(hostile.index)
    assert payloads and not any(SECRET in payload for payload in payloads)


def test_every_report_format_is_written_and_decodes(hostile):
    for _format, name in (("json", "report.json"), ("html", "report.html"), ("md", "report.md"),
                      ("csv", "report.csv"), ("sarif", "report.sarif"), ("junit", "report.junit.xml")):  # fmt: skip
        (hostile.out / name).read_bytes().decode("utf-8")  # strict: no lone surrogate got through
    assert (hostile.out / "report.xlsx").stat().st_size > 0


# --- file names: exact in JSON, reversible where not UTF-8 -----------------------------------


def test_report_json_round_trips_names_exactly(hostile):
    report = json.loads((hostile.out / "report.json").read_text(encoding="utf-8"))
    paths = {d["path"] for d in report["documents"]}
    for name in HOSTILE_NAMES:
        assert f"names/{name}" in paths
    evidence_paths = {e["path"] for f in report["frameworks"] for r in f["requirements"] for e in r["evidence"]}
    assert evidence_paths <= paths


def test_names_that_are_not_utf8_are_shown_escaped_and_indexed_exactly(hostile):
    report = json.loads((hostile.out / "report.json").read_text(encoding="utf-8"))
    paths = {d["path"]: d for d in report["documents"]}
    with sqlite3.connect(hostile.index) as db:
        indexed = {row[0] for row in db.execute("SELECT path FROM files")}
    for raw in BYTES_NAMES:
        shown = display_path("names/" + os.fsdecode(raw))
        assert shown in paths and paths[shown]["status"] == "ok", shown
        assert "\\x" in shown and shown.isprintable()
        assert codecs.escape_decode(shown.encode("utf-8"))[0] == b"names/" + raw  # reversible
        assert b"names/" + raw in indexed  # the index keeps the real name, as bytes
    assert display_path("names/<script>alert(1)</script>.md") == "names/<script>alert(1)</script>.md"


def test_a_non_utf8_name_is_read_again_only_when_it_changes(hostile, tmp_path):
    """The index finds a file with an undecodable name again (stored as bytes, matched as bytes)."""
    root = tmp_path / "tree"
    root.mkdir()
    from fixtures.hostile import write_bytes_name

    write_bytes_name(root, b"proc\xe9dure-\xff.md", b"# Internal audit procedure\n\nAudit programme.\n")
    first = scan(root, Config(frameworks=("iso9001-2015",)), index_path=tmp_path / "i.sqlite", jobs=1)
    second = scan(root, Config(frameworks=("iso9001-2015",)), index_path=tmp_path / "i.sqlite", jobs=1)
    assert (first.stats.extracted, second.stats.extracted, second.stats.reused) == (1, 0, 1)
    (root / os.fsdecode(b"proc\xe9dure-\xff.md")).unlink()
    third = scan(root, Config(frameworks=("iso9001-2015",)), index_path=tmp_path / "i.sqlite", jobs=1)
    assert third.stats.removed == 0 and third.report.documents == ()
    with sqlite3.connect(tmp_path / "i.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM files").fetchone() == (0,)


def test_tricky_names_stay_distinct_and_no_link_or_uri_leaves_the_tree(hostile):
    """A newline and its shown form, backslashes, a right-to-left override: each name is shown
    differently (reversibly), no output carries a bidirectional control, and every link in the HTML
    and every SARIF URI resolves to the real file inside the scanned tree."""
    shown = {name: display_path(f"names/{name}") for name in TRICKY_NAMES}
    assert len(set(shown.values())) == len(TRICKY_NAMES)
    documents = by_path(hostile.result.report)
    for name, path in shown.items():
        assert name_bytes(path) == os.fsencode(f"names/{name}") and path.isprintable(), path
        assert documents[path].status == "ok"
    assert documents["names/bidi-title.md"].title == "Internal audit <U+202E>programme<U+2066> 2026"
    for output in hostile.out.iterdir():
        text = output.read_bytes().decode("utf-8") if output.suffix != ".xlsx" else ""
        assert not any(control in text for control in "\u202e\u2066"), output.name

    root = os.fsencode(hostile.root) + b"/"
    html = (hostile.out / "report.html").read_text(encoding="utf-8")
    page = (hostile.out / "report.html").as_uri()
    targets = [urljoin(page, value) for tag, attrs in _parse(html).tags if tag == "a"
               for name, value in attrs if name == "href" and value and not value.startswith("#")]
    linked = {unquote_to_bytes(urlsplit(target).path) for target in targets}
    assert linked and all(path.startswith(root) for path in linked), sorted(linked)[:5]
    for path in shown.values():  # the real file, backslashes and all
        assert root + name_bytes(path) in linked, path
    sarif = json.loads((hostile.out / "report.sarif").read_text(encoding="utf-8"))
    base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    uris = re.findall(r'"uri": "([^"]*)"', json.dumps(sarif["runs"][0]["results"]))
    assert uris and all(unquote_to_bytes(urlsplit(urljoin(base, u)).path).startswith(root) for u in uris)


def test_links_reach_the_real_files_of_an_oddly_named_folder_and_stay_under_a_link_base(tmp_path):
    """The scanned folder's own name may hold a backslash and bytes that are not UTF-8 (reports show
    it as a display path): the relative links from the report folder still reach each real file.
    With --link-base every link in HTML, Markdown and SARIF lies under the base, tricky names and
    all (a backslash is %5C, never a way up)."""
    root = tmp_path / os.fsdecode(b"q\\ms-\xff")
    (root / "names").mkdir(parents=True)
    audit = b"# Internal audit programme\n\nThe internal audit programme covers every process.\n"
    for name in TRICKY_NAMES:
        (root / "names" / name).write_bytes(audit)
    (root / "names" / "..\\broken.pdf").write_bytes(b"%PDF-1.7 not really")  # unreadable: listed in Markdown
    result = scan(root, Config(limits=LIMITS), index_path=tmp_path / "i.sqlite", jobs=1, today=TODAY)
    files = {b"names/" + os.fsencode(name) for name in TRICKY_NAMES}

    def hrefs(html: str) -> list[str]:
        return [value for tag, attrs in _parse(html).tags if tag == "a"
                for name, value in attrs if name == "href" and value and not value.startswith("#")]

    out = tmp_path / "out"
    write_reports(result.report, out, ("html",))
    page = (out / "report.html").as_uri()
    html = (out / "report.html").read_text(encoding="utf-8")
    linked = {unquote_to_bytes(urlsplit(urljoin(page, href)).path) for href in hrefs(html)}
    real_root = os.fsencode(root) + b"/"
    assert {real_root + path for path in files} <= linked, sorted(linked)[:5]

    base = "https://docs.example/qms/"
    published = tmp_path / "published"
    write_reports(result.report, published, ("html", "md", "sarif"),
                  publication=Publication(link_base=base))
    html_links = hrefs((published / "report.html").read_text(encoding="utf-8"))
    assert {f"{base}names/{quote(os.fsencode(name), safe='')}" for name in TRICKY_NAMES} <= set(html_links)
    markdown = (published / "report.md").read_text(encoding="utf-8")
    markdown_links = re.findall(r"\]\((https?://[^)\s]*)\)", markdown)
    sarif = json.loads((published / "report.sarif").read_text(encoding="utf-8"))["runs"][0]
    sarif_base = sarif["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    uris = re.findall(r'"uri": "([^"]*)"', json.dumps(sarif["results"]))
    sarif_links = [urljoin(sarif_base, uri) for uri in uris]
    assert sarif_base == base and markdown_links and sarif_links
    for link in html_links + markdown_links + sarif_links:
        assert link.startswith(base) and ".." not in link[len(base):].split("/"), link
    assert base + "names/..%5Cbroken.pdf" in markdown_links


# --- the HTML report stays inert -------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def test_html_report_is_inert(hostile):
    html = (hostile.out / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    # Only the page's own script: one element, inline, and not a word from any document in it.
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert len(scripts) == 1 and not any(name == "src" for name, _ in scripts[0])
    assert "alert(1)" not in page.scripts[0] and "7*7" not in page.scripts[0]
    for tag, attrs in page.tags:
        assert tag not in {"img", "iframe", "object", "embed", "frame", "base", "form", "link", "math"}, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:", "vbscript:")), value
    # Hostile markup never appears raw, only escaped.
    for needle in ("<script>alert(1)</script>", "<img src=x onerror", "<svg onload", '"><img'):
        assert needle not in html
    # The names are shown as text, Jinja syntax included, unevaluated.
    text = "".join(page.text)
    for name in HOSTILE_NAMES:
        assert f"names/{name}" in text, name
    assert "{{ 7*7 }} {% if 1 %}jinja{% endif %}.md" in text
    # A CSP that allows no script but the page's own, and nothing from the network.
    assert "default-src 'none'" in html and "script-src 'sha256-" in html


def test_text_that_no_encoder_accepts_is_cleaned_at_the_extractor(hostile):
    """This PDF's font maps a character to a lone surrogate; it reaches neither index nor report."""
    with sqlite3.connect(hostile.index) as db:
        stored = db.execute("SELECT sections FROM texts")
        payloads = [zstandard.decompress(blob) for (blob,) in stored]
    assert any("\ufffdA\ufffdA".encode() in payload for payload in payloads)
