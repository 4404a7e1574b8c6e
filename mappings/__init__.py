"""gapscan.mappings: framework catalogs and crosswalks as data, with their loader."""

from gapscan.mappings.catalog import (
    Catalog,
    CatalogError,
    Crosswalk,
    Link,
    Requirement,
    bundled_catalogs,
    bundled_crosswalks,
    load_catalog,
    load_catalogs,
    load_crosswalk,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Crosswalk",
    "Link",
    "Requirement",
    "bundled_catalogs",
    "bundled_crosswalks",
    "load_catalog",
    "load_catalogs",
    "load_crosswalk",
]
