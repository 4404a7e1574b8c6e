"""Which supervised model a scan uses: the one shipped with gapscan, or one trained from the
user's own labels (``labels`` in the configuration), retrained only when the labels or the labelled
documents change."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import platformdirs

from gapscan.classifiers.labels import load_labels, training_hash
from gapscan.classifiers.supervised import SupervisedModel
from gapscan.mappings import Catalog
from gapscan.scanner.common.documents import Extract

DEFAULT_MODEL = "default-model.npz"


@cache
def default_model() -> SupervisedModel | None:
    """The model shipped inside the package (see docs/accuracy.md for how it is rebuilt)."""
    resource = resources.files("gapscan.classifiers").joinpath("data", DEFAULT_MODEL)
    if not resource.is_file():
        return None
    with resources.as_file(resource) as path:
        return SupervisedModel.load(path)


def catalog_versions(catalogs: list[tuple[Catalog, int | None]]) -> dict[str, str]:
    return {catalog.id: catalog.version for catalog, _ in catalogs}


def model_from_labels(
    labels_path: Path,
    extracts: dict[str, Extract],
    catalogs: list[tuple[Catalog, int | None]],
    cache_dir: Path | None = None,
) -> tuple[SupervisedModel, bool]:
    """The model for a labels file whose paths are relative to the scanned root; returns
    (model, trained now). A model trained from the same labels and document contents is reused."""
    labelled = load_labels(labels_path)
    hashes = {item.path: extracts[item.path].document.sha256 for item in labelled if item.path in extracts}
    digest = training_hash(labelled, hashes)
    folder = cache_dir or Path(platformdirs.user_cache_dir("gapscan")) / "models"
    path = folder / f"labels-{digest[:24]}.npz"
    if path.is_file():
        model = SupervisedModel.load(path)
        if model.info.get("training_hash") == digest:
            return model, False
    from gapscan.classifiers.evaluate import fit  # noqa: PLC0415  (scikit-learn, slow to import: only to train)

    info = {"training_hash": digest, "labels": str(labels_path), "catalogs": catalog_versions(catalogs)}
    model = fit(labelled, extracts, info)
    model.save(path)
    return model, True
