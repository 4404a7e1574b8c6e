import contextlib
import sqlite3
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from early import WORK

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests marked ``corpus`` read ../shared/corpus: skip them when it is absent (it is not in the repository).

    Tests that share costly state run in one pytest-xdist worker (``--dist loadgroup``), in collection
    order: those of the session's corpus index, so the corpus is extracted once and each index copy
    holds what it held in a run without workers, and those of one module that share a module-scoped
    fixture (a scanned folder), so it is built once."""
    present = (CORPUS / "labels.tsv").is_file()
    absent = pytest.mark.skip(reason=f"shared corpus not found at {CORPUS} (it is kept outside the repository)")
    groups = {}
    for item in items:
        if not present and item.get_closest_marker("corpus"):
            item.add_marker(absent)
        groups[item.nodeid] = group = _shared_state(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    # The longest group first, so that it does not end the run alone on one worker, and the watch
    # tests, which mostly wait for events, while the other worker computes.
    items.sort(key=lambda item: (groups[item.nodeid] != "corpus-index", item.path.name != "test_watch.py"))


def pytest_collection_finish(session):
    """pytest-xdist tags a grouped test's node id with its group (``…@corpus-index``) to schedule it;
    if a pytest release stops that (as 9.2 did), say so rather than read the corpus twice unnoticed."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        warnings.warn(pytest.PytestWarning(f"pytest-xdist did not group {len(lost)} tests (first: {lost[0]}): "
                                           "their shared state is built once per worker"), stacklevel=1)


def _shared_state(item) -> str | None:
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return None
    if {"corpus_index", "corpus_index_copy"} & set(fixtures.names_closure):
        return "corpus-index"
    if any(definition.scope == "module" for definitions in fixtures.name2fixturedefs.values()
           for definition in definitions):
        return item.path.name
    return None


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory):
    """A user cache folder of the session's own: a scan given no ``--index`` (in this process or a
    command it runs) keeps its index there, not in the cache of the user running the tests."""
    folder = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


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
    one background thread, one after the other, when the session's first test is set up.

    In a pytest-xdist worker the other core already runs tests, and which worker gets a test is not
    known in advance: each check starts when its test asks for it, so none runs twice."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="early-check") as pool:

        def start(name):
            return pool.submit(WORK[name], tmp_path_factory.mktemp(f"early-{name}"))

        if hasattr(request.config, "workerinput"):
            yield _OnRequest(start)
            return
        names = []
        for item in request.session.items:
            marker = item.get_closest_marker("early")
            if marker is not None and marker.args[0] not in names:
                names.append(marker.args[0])
        yield {name: start(name) for name in names}


class _OnRequest(dict):
    """Futures started on first lookup."""

    def __init__(self, start):
        super().__init__()
        self._start = start

    def __missing__(self, name):
        self[name] = future = self._start(name)
        return future
