"""Load and validate framework catalogs and crosswalks (TOML files checked against JSON Schemas)."""

from __future__ import annotations

import glob
import hashlib
import json
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.languages import reads
from gapscan.scanner.common.reading import InputError, read_toml

if TYPE_CHECKING:
    import jsonschema

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

class CatalogError(ValueError, GapscanError):
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
    # ISO 639-1 codes of the languages its profiles are written in, its own and those of its
    # translated profiles: documents in any other language are not assessed against it (their
    # words would match nothing).
    languages: tuple[str, ...] = ("en",)
    # (language, path) of each file of translated profiles (``NAME.LANG.profiles.toml``), read
    # when a document in that language is first scored.
    translations: tuple[tuple[str, str], ...] = ()

    def reads(self, language: str) -> bool:
        return reads(self.languages, language)

    def in_language(self, language: str) -> Catalog:
        """This catalog with every requirement's title, intent, typical evidence, keywords and
        phrases as its profiles in ``language`` give them; ids, levels and evidence rules are its
        own. A language it has no translated profiles for gives the catalog as it is."""
        path = dict(self.translations).get(language)
        if path is None:
            return self
        texts = _translated_profiles(path, self.id, language, tuple(r.id for r in self.requirements),
                                     frozenset(r.id for r in self.requirements if r.kind == "requirement"))
        return replace(self, requirements=tuple(replace(r, **texts[r.id]) for r in self.requirements),
                       languages=(language,), translations=())

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
    language: str = "en"  # the language its profile is written in


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
    if _validated_when_built(path, schema_name):
        return data
    import jsonschema  # noqa: PLC0415 - a rescan reads only the bundled files, validated when built

    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise CatalogError(_describe(path, data, errors[0]))
    return data


# The bundled files' digests (``validation_digest``) as validated when the package was built; a test
# validates every bundled file and checks this list. Validating them takes longer than the rest of
# an unchanged rescan, so a bundled file whose bytes are listed is not validated again. Every other
# file (a user's catalogs, a bundled file changed since) is.
VALIDATED = "validated.json"


def validation_digest(path: Path, schema_name: str) -> str:
    """SHA-256 of the schema a file is validated against and of the file."""
    digest = hashlib.sha256(_PACKAGE.joinpath(schema_name).read_bytes())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def bundled_digests() -> dict[str, str]:
    """Each bundled file's name and ``validation_digest``, validating it (what ``VALIDATED`` lists)."""
    import jsonschema  # noqa: PLC0415 - see _read_toml

    digests = {}
    for suffix, schema_name in _BUNDLED_SCHEMAS:
        for path in _bundled_paths(suffix):
            data = read_toml(path)
            errors = list(jsonschema.Draft202012Validator(_schema(schema_name)).iter_errors(data))
            if errors:
                raise CatalogError(_describe(path, data, errors[0]))
            digests[path.name] = validation_digest(path, schema_name)
    return dict(sorted(digests.items()))


_BUNDLED_SCHEMAS = ((".catalog.toml", "catalog_schema.json"), (".profiles.toml", "profiles_schema.json"),
                    (".crosswalk.toml", "crosswalk_schema.json"), (".regimes.toml", "regime_schema.json"))


@cache
def _validated() -> dict[str, str]:
    return json.loads(_PACKAGE.joinpath(VALIDATED).read_text(encoding="utf-8"))


def _validated_when_built(path: Path, schema_name: str) -> bool:
    folder = Path(str(_PACKAGE.joinpath("catalogs"))).resolve()
    if path.resolve().parent != folder or path.name not in _validated():
        return False
    return _validated()[path.name] == validation_digest(path, schema_name)


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


# Catalogs read, by file and its state: a scan reads each several times (its options are
# checked before the scan, the crosswalks name the bundled ones), a watch service at every batch.
_READ: dict[tuple[str, int, int], Catalog] = {}
_READ_KEPT = 64


def load_catalog(path: str | Path) -> Catalog:
    path = Path(path)
    try:
        status = path.stat()
    except OSError:
        return _load_catalog(path)  # which says why it cannot be read
    key = (str(path.absolute()), status.st_mtime_ns, status.st_size)
    if key not in _READ:
        if len(_READ) >= _READ_KEPT:
            _READ.clear()
        _READ[key] = _load_catalog(path)
    return _READ[key]


def _load_catalog(path: Path) -> Catalog:
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
    translations = _translation_files(path)
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
        languages=_languages(path, tuple(data.get("languages", ("en",))), translations),
        translations=translations,
    )


PROFILES_SUFFIX = ".profiles.toml"


def _translation_files(path: Path) -> tuple[tuple[str, str], ...]:
    """(language, path) of the ``NAME.LANG.profiles.toml`` files beside ``NAME.catalog.toml``."""
    name = path.name.removesuffix(".catalog.toml")
    found = []
    for candidate in sorted(path.parent.glob(f"{glob.escape(name)}.*{PROFILES_SUFFIX}")):
        language = candidate.name[len(name) + 1 : -len(PROFILES_SUFFIX)]
        if re.fullmatch(r"[a-z]{2,3}", language):
            found.append((language, str(candidate)))
    return tuple(found)


def _languages(path: Path, own: tuple[str, ...], translations: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    for language, translation in translations:
        if language in own:
            raise CatalogError(f"{translation}: the catalog is written in {language} already "
                               f"(field 'languages' of {path.name})")
    return own + tuple(language for language, _ in translations)


@cache
def _translated_profiles(path: str, catalog_id: str, language: str, ids: tuple[str, ...],
                         requirement_ids: frozenset[str]) -> dict[str, dict]:
    """Each requirement id's translated texts, checked against the catalog they translate; a
    requirement (not a group) needs an intent and keywords."""
    data = _read_toml(Path(path), "profiles_schema.json")
    for field_name, expected in (("catalog", catalog_id), ("language", language)):
        if data[field_name] != expected:
            raise CatalogError(f"{path}: field {field_name!r}: {data[field_name]!r}, expected {expected!r} "
                               "(from the file name and the catalog beside it)")
    texts: dict[str, dict] = {}
    for entry in data["requirements"]:
        where = f"{path}: requirement {entry['id']!r}"
        if entry["id"] in texts:
            raise CatalogError(f"{where}: field 'id': duplicate id")
        if entry["id"] not in ids:
            raise CatalogError(f"{where}: field 'id': not a requirement of catalog {catalog_id!r}")
        for needed in ("intent", "keywords"):
            if entry["id"] in requirement_ids and not entry.get(needed):
                raise CatalogError(f"{where}: field {needed!r}: required but missing")
        texts[entry["id"]] = {"title": entry["title"], "intent": entry.get("intent", ""),
                              **{key: tuple(entry.get(key, ())) for key in ("typical_evidence", "keywords", "phrases")}}
    missing = [i for i in ids if i not in texts]
    if missing:
        raise CatalogError(f"{path}: requirement {missing[0]!r}: no profile in {language}"
                           + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return texts


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
    language = data.get("language", "en")
    return tuple(
        Regime(entry["id"], entry["title"], entry["description"], tuple(entry["keywords"]),
               tuple(entry.get("phrases", ())), language)
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


def bundled_regimes(language: str = "en") -> tuple[Regime, ...]:
    """The neighbouring regimes' profiles in ``language`` (none when no file is written in it)."""
    return tuple(regime for regime in _every_bundled_regime() if regime.language == language)


@cache
def _every_bundled_regime() -> tuple[Regime, ...]:
    return tuple(regime for path in _bundled_paths(".regimes.toml") for regime in load_regimes(path))
