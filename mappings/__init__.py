"""gapscan.mappings: framework catalogs and crosswalks as data, with their loader."""

from gapscan.mappings.catalog import (
    EVIDENCE_KINDS,
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
    requirement_order,
)

__all__ = [
    "EVIDENCE_KINDS",
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
    "requirement_order",
]
