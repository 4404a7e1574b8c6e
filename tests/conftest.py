import contextlib
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from early import WORK

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``corpus`` read ../shared/corpus: skip them when it is absent (it is not in the repository)."""
    if (CORPUS / "labels.tsv").is_file():
        return
    absent = pytest.mark.skip(reason=f"shared corpus not found at {CORPUS} (it is kept outside the repository)")
    for item in items:
        if item.get_closest_marker("corpus"):
            item.add_marker(absent)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory):
    """One index for every test that reads ../shared/corpus, so its documents are extracted once."""
    return tmp_path_factory.mktemp("corpus-index") / "index.sqlite"


@pytest.fixture(scope="session")
def corpus_index_copy(corpus_index, tmp_path_factory):
    """A new index for a scan of one folder of the corpus, holding what the session's corpus index
    holds so far: its extracts are keyed by content, so the folder's documents are not read again
    (paths and scores differ from the whole corpus's, so they are looked up, hashed and scored anew).
    An empty index when no test has filled the corpus index yet."""

    def copy(name: str) -> Path:
        target = tmp_path_factory.mktemp(name) / "index.sqlite"
        if corpus_index.is_file():
            _copy_index(corpus_index, target)
        return target

    return copy


def _copy_index(source: Path, target: Path) -> Path:
    """A consistent copy of an SQLite index (its write-ahead log included), made with SQLite's backup."""
    with contextlib.closing(sqlite3.connect(source)) as reader, contextlib.closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)
    return target


@pytest.fixture(scope="session")
def copy_index():
    """``copy_index(source, target)``: a test's own copy of an index another test's scan filled."""
    return _copy_index


@pytest.fixture(scope="session")
def demo_qms_folder(tmp_path_factory):
    """The demo quality system (fixtures/demo_qms.py), generated once for the session: the tests
    that scan it only read it."""
    from fixtures import demo_qms

    return demo_qms.build(tmp_path_factory.mktemp("demo") / "demo-qms")


@pytest.fixture(scope="session", autouse=True)
def early_results(request, tmp_path_factory):
    """The results (futures) of the early checks of the selected tests (tests/early.py), started in
    one background thread, one after the other, when the session's first test is set up."""
    names = []
    for item in request.session.items:
        marker = item.get_closest_marker("early")
        if marker is not None and marker.args[0] not in names:
            names.append(marker.args[0])
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="early-check") as pool:
        yield {name: pool.submit(WORK[name], tmp_path_factory.mktemp(f"early-{name}")) for name in names}
