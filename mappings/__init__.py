"""gapscan.mappings: framework catalogs and crosswalks as data, with their loader."""

from gapscan.mappings.catalog import (
    EVIDENCE_KINDS,
    Catalog,
    CatalogError,
    Crosswalk,
    Link,
    Regime,
    Requirement,
    bundled_catalogs,
    bundled_crosswalks,
    bundled_regimes,
    load_catalog,
    load_catalogs,
    load_crosswalk,
    load_regimes,
)
from gapscan.scanner.common.ids import requirement_order

__all__ = [
    "EVIDENCE_KINDS",
    "Catalog",
    "CatalogError",
    "Crosswalk",
    "Link",
    "Regime",
    "Requirement",
    "bundled_catalogs",
    "bundled_crosswalks",
    "bundled_regimes",
    "load_catalog",
    "load_catalogs",
    "load_crosswalk",
    "load_regimes",
    "requirement_order",
]
