from pathlib import Path

import pytest

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
