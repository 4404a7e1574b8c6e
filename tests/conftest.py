import pytest


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory):
    """One index for every test that reads ../shared/corpus, so its documents are extracted once."""
    return tmp_path_factory.mktemp("corpus-index") / "index.sqlite"
