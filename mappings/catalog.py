"""Load and validate framework catalogs and crosswalks (TOML files checked against JSON Schemas)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema

from gapscan.mappings.languages import reads
from gapscan.scanner.reading import InputError, read_toml

_PACKAGE = resources.files("gapscan.mappings")


# What a requirement's ``evidence`` value asks for: a short label and what it means, in plain words
# (the legend of `gapscan frameworks`, the HTML report and the docs).
EVIDENCE_KINDS = {
    "maintain": ("Document required", "a documented process, policy or plan must exist and be kept current"),
    "retain": ("Records required", "records must show that the activity is actually done"),
    "both": ("Document and records required", "a maintained document, and records that show it is followed"),
    "none": ("No document or record required", "no document or record is mandatory, but an auditor still asks to "
             "see that it is done"),
}

_ID_PART = re.compile(r"\d+|[^\W\d_]+")


def requirement_order(requirement_id: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for requirement ids, numbers compared as numbers: 8.2 < 8.10, and CMMI practice
    areas alphabetically, then by practice number ("CAR 3.1" < "CM 1.1" < "CM 2.1")."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in _ID_PART.findall(requirement_id))


class CatalogError(ValueError):
    """A catalog or crosswalk that cannot be used; the message names file, requirement and field."""


@dataclass(frozen=True)
class Requirement:
    """One auditable requirement (ISO clause, CMMI practice) or a group of them (clause, practice area)."""

    id: str
    title: str
    kind: str  # "group" or "requirement"
    parent: str = ""
    level: int | None = None
    intent: str = ""
    evidence: str = "none"  # "maintain" (a document), "retain" (records), "both" or "none"
    typical_evidence: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    max_age_days: int | None = None
    # Activities whose records are evidence for this requirement whatever their subject: a
    # training quiz about CAPA is a training record, not CAPA evidence (classifiers/doctype.py).
    records_of: tuple[str, ...] = ()

    @property
    def needs_records(self) -> bool:
        return self.evidence in ("retain", "both")


@dataclass(frozen=True)
class Catalog:
    id: str
    title: str
    version: str
    licence: str
    requirements: tuple[Requirement, ...]
    description: str = ""
    levels: tuple[int, ...] = ()
    default_level: int | None = None
    source: str = ""
    # ISO 639-1 codes of the languages its profiles are written in: documents in any other
    # language are not assessed against it (their words would match nothing).
    languages: tuple[str, ...] = ("en",)

    def reads(self, language: str) -> bool:
        return reads(self.languages, language)

    def get(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise KeyError(requirement_id)

    def parent_of(self, requirement: Requirement) -> Requirement | None:
        return self.get(requirement.parent) if requirement.parent else None

    def in_scope(self, level: int | None = None) -> tuple[Requirement, ...]:
        """Requirements assessed at a target level: for CMMI, practice areas in that level's
        benchmark (the group's ``level``) and practices up to that level."""
        level = level or self.default_level
        groups = {r.id: r for r in self.requirements if r.kind == "group"}

        def included(requirement: Requirement) -> bool:
            if level is None:
                return True
            if requirement.level is not None and requirement.level > level:
                return False
            group = groups.get(requirement.parent)
            return group is None or group.level is None or group.level <= level

        return tuple(r for r in self.requirements if r.kind == "requirement" and included(r))


@dataclass(frozen=True)
class Regime:
    """A neighbouring regime (information security, privacy, HR administration …) whose documents
    are not quality evidence unless they are mainly about a requirement too."""

    id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    relationship: str
    rationale: str
    strength: str = ""


@dataclass(frozen=True)
class Crosswalk:
    id: str
    title: str
    source: str
    target: str
    links: tuple[Link, ...]

    def related(self, framework: str, requirement_id: str) -> list[tuple[str, str, Link]]:
        """(other framework, other requirement id, link) for links touching a requirement; a link
        to a group id (a CMMI practice area, an ISO clause) also touches that group's members."""
        found = []
        for link in self.links:
            if framework == self.source and _touches(link.source, requirement_id):
                found.append((self.target, link.target, link))
            elif framework == self.target and _touches(link.target, requirement_id):
                found.append((self.source, link.source, link))
        return found


def _touches(linked_id: str, requirement_id: str) -> bool:
    return requirement_id == linked_id or requirement_id.startswith((linked_id + " ", linked_id + "."))


@cache
def _schema(name: str) -> dict:
    return json.loads(_PACKAGE.joinpath(name).read_text(encoding="utf-8"))


def _read_toml(path: Path, schema_name: str) -> dict:
    try:
        data = read_toml(path)
    except InputError as exc:
        raise CatalogError(str(exc)) from None
    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise CatalogError(_describe(path, data, errors[0]))
    return data


def _describe(path: Path, data: dict, error: jsonschema.ValidationError) -> str:
    """Name the file, the entry (by its id, not its position) and the field."""
    where = list(error.absolute_path)
    parts = [str(path)]
    if len(where) >= 2 and where[0] in ("requirements", "links") and isinstance(where[1], int):
        entry = data[where[0]][where[1]]
        label = "requirement" if where[0] == "requirements" else "link"
        ident = entry.get("id") or entry.get("source") if isinstance(entry, dict) else None
        parts.append(f"{label} {ident!r}" if ident else f"{label} #{where[1] + 1}")
        where = where[2:]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        parts.append(f"field {missing!r}: required but missing")
    else:
        field_name = ".".join(str(p) for p in where) or "(top level)"
        parts.append(f"field {field_name!r}: {error.message}")
    return ": ".join(parts)


def load_catalog(path: str | Path) -> Catalog:
    path = Path(path)
    data = _read_toml(path, "catalog_schema.json")
    requirements = tuple(
        Requirement(
            id=entry["id"],
            title=entry["title"],
            kind=entry["kind"],
            parent=entry.get("parent", ""),
            level=entry.get("level"),
            intent=entry.get("intent", ""),
            evidence=entry.get("evidence", "none"),
            typical_evidence=tuple(entry.get("typical_evidence", ())),
            keywords=tuple(entry.get("keywords", ())),
            phrases=tuple(entry.get("phrases", ())),
            max_age_days=entry.get("max_age_days"),
            records_of=tuple(entry.get("records_of", ())),
        )
        for entry in data["requirements"]
    )
    _check_references(path, requirements)
    return Catalog(
        id=data["id"],
        title=data["title"],
        version=data["version"],
        licence=data["licence"],
        requirements=requirements,
        description=data.get("description", ""),
        levels=tuple(data.get("levels", ())),
        default_level=data.get("default_level"),
        source=str(path),
        languages=tuple(data.get("languages", ("en",))),
    )


def _check_references(path: Path, requirements: tuple[Requirement, ...]) -> None:
    seen: set[str] = set()
    for requirement in requirements:
        if requirement.id in seen:
            raise CatalogError(f"{path}: requirement {requirement.id!r}: field 'id': duplicate id")
        seen.add(requirement.id)
    for requirement in requirements:
        if requirement.parent and requirement.parent not in seen:
            raise CatalogError(
                f"{path}: requirement {requirement.id!r}: field 'parent': "
                f"{requirement.parent!r} is not a requirement of this catalog"
            )


def load_crosswalk(path: str | Path, catalogs: dict[str, Catalog] | None = None) -> Crosswalk:
    path = Path(path)
    data = _read_toml(path, "crosswalk_schema.json")
    links = tuple(
        Link(
            source=entry["source"],
            target=entry["target"],
            relationship=entry["relationship"],
            rationale=entry["rationale"],
            strength=entry.get("strength", ""),
        )
        for entry in data["links"]
    )
    for side in ("source", "target"):
        catalog = (catalogs or {}).get(data[side])
        if catalog is None:
            continue
        known = {r.id for r in catalog.requirements}
        for link in links:
            if getattr(link, side) not in known:
                raise CatalogError(
                    f"{path}: link {link.source!r} -> {link.target!r}: field {side!r}: "
                    f"{getattr(link, side)!r} is not in catalog {catalog.id!r}"
                )
    return Crosswalk(data["id"], data["title"], data["source"], data["target"], links)


def load_regimes(path: str | Path) -> tuple[Regime, ...]:
    data = _read_toml(Path(path), "regime_schema.json")
    return tuple(
        Regime(entry["id"], entry["title"], entry["description"], tuple(entry["keywords"]), tuple(entry.get("phrases", ())))
        for entry in data["regimes"]
    )


def _bundled_paths(suffix: str) -> list[Path]:
    folder = _PACKAGE.joinpath("catalogs")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(suffix))


def load_catalogs(extra_folders: list[Path] | tuple[Path, ...] = ()) -> dict[str, Catalog]:
    """Bundled catalogs plus any ``*.catalog.toml`` in the given folders (a user's own frameworks)."""
    catalogs: dict[str, Catalog] = {}
    paths = _bundled_paths(".catalog.toml")
    for folder in extra_folders:
        if not Path(folder).is_dir():
            raise CatalogError(f"{folder}: catalogs folder not found")
        paths.extend(sorted(Path(folder).glob("*.catalog.toml")))
    for path in paths:
        catalog = load_catalog(path)
        if catalog.id in catalogs:
            raise CatalogError(f"{path}: field 'id': catalog {catalog.id!r} is already defined")
        catalogs[catalog.id] = catalog
    return catalogs


@cache
def bundled_catalogs() -> dict[str, Catalog]:
    return load_catalogs()


@cache
def bundled_crosswalks() -> tuple[Crosswalk, ...]:
    catalogs = bundled_catalogs()
    return tuple(load_crosswalk(p, catalogs) for p in _bundled_paths(".crosswalk.toml"))


@cache
def bundled_regimes() -> tuple[Regime, ...]:
    return tuple(regime for path in _bundled_paths(".regimes.toml") for regime in load_regimes(path))
