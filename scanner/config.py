"""Configuration: the closest ``gapscan.toml`` or ``[tool.gapscan]`` at or above the scanned root.

Keys are documented in docs/configuration.md. Command-line flags override the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gapscan.scanner.common.errors import GapscanError
from gapscan.scanner.common.limits import LIMIT_RANGES, Limits
from gapscan.scanner.common.reading import InputError, read_toml
from gapscan.scanner.common.status import FAIL_ON


class ConfigError(ValueError, GapscanError):
    """A configuration file or value that cannot be used (exit code 2)."""


@dataclass(frozen=True)
class Config:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()  # empty: every loaded catalog
    cmmi_level: int | None = None  # None: the catalog's default
    not_applicable: dict[str, dict[str, str]] = field(default_factory=dict)
    max_age_days: dict[str, dict[str, int]] = field(default_factory=dict)
    catalog_folders: tuple[Path, ...] = ()
    labels: Path | None = None
    fail_under: float | None = None
    fail_on: str | None = None  # new-gaps / any-gap / none (None: none)
    waivers: Path | None = None  # TOML file of accepted gaps (reports/gate/waivers.py)
    all_files: bool = False
    follow_symlinks_outside: bool = False  # follow symlinks whose target is outside the scanned root
    limits: Limits = field(default_factory=Limits)
    source: Path | None = None  # the file this came from, if any

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the given values replaced, ignoring ``None`` (a flag the user did not pass)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_KNOWN_KEYS = {
    "include", "exclude", "frameworks", "cmmi", "not_applicable", "max_age",
    "catalogs", "labels", "fail_under", "all_files", "limits", "fail_on", "waivers", "follow_symlinks_outside",
}
_LIMIT_KEYS = {f.name for f in fields(Limits)}
_AGE = re.compile(r"^\s*(\d+)\s*(d|day|days|w|week|weeks|m|month|months|y|year|years)?\s*$")
_AGE_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def find_config(root: Path) -> Path | None:
    """The closest ``gapscan.toml``, or ``pyproject.toml`` with ``[tool.gapscan]``, at or above root."""
    for folder in (root, *root.parents):
        candidate = folder / "gapscan.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            tool = _read(pyproject).get("tool", {})
            if isinstance(tool, dict) and "gapscan" in tool:
                return pyproject
    return None


def load_config(root: Path, explicit: Path | None = None) -> Config:
    root = root.resolve()
    path = explicit or find_config(root)
    if path is None:
        return Config()
    data = _read(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("gapscan", {}) if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.gapscan] must be a table")
        data = table
    config = _parse(data, path)
    if explicit is None and path.parent.resolve() == root:
        _check_contained(config, path, root)
    return config


def _check_contained(config: Config, path: Path, root: Path) -> None:
    """A configuration file inside the scanned tree may have been put there by anyone who can write
    to it (a shared drive): the files it names must be inside the tree too, so that it cannot make
    gapscan read catalogs, labels (which train a model) or waivers from elsewhere on the machine.
    Output paths (``--out``, ``--index``) are never configuration keys at all."""
    named = [("catalogs", folder) for folder in config.catalog_folders]
    named += [(key, value) for key, value in (("labels", config.labels), ("waivers", config.waivers)) if value]
    if config.follow_symlinks_outside:
        raise ConfigError(
            f"{path}: follow_symlinks_outside = true in a configuration file inside the scanned folder "
            "would let anyone who can write there make gapscan read the rest of the machine; set it in "
            "a file given with --config, or pass --follow-symlinks-outside"
        )
    for key, value in named:
        if not value.resolve().is_relative_to(root):
            raise ConfigError(
                f"{path}: {key} names {value}, outside the scanned folder {root}; a configuration file "
                "inside the scanned folder may only name files inside it (use --config to allow this)"
            )


def _read(path: Path) -> dict:
    try:
        return read_toml(path)
    except InputError as exc:
        raise ConfigError(str(exc)) from None


def _parse(data: dict, path: Path) -> Config:
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s): {', '.join(unknown)}")
    base = path.parent
    cmmi = _table(data, "cmmi", path)
    if set(cmmi) - {"level"}:
        raise ConfigError(f"{path}: unknown key(s) in [cmmi]: {', '.join(sorted(set(cmmi) - {'level'}))}")
    level = cmmi.get("level")
    if level is not None and level not in (2, 3):
        raise ConfigError(f"{path}: cmmi.level must be 2 or 3, not {level!r}")
    labels = data.get("labels")
    if labels is not None and (not isinstance(labels, str) or not labels.strip()):
        raise ConfigError(f"{path}: labels must be the path of a labels file")
    all_files = data.get("all_files", False)
    if not isinstance(all_files, bool):
        raise ConfigError(f"{path}: all_files must be true or false")
    follow = data.get("follow_symlinks_outside", False)
    if not isinstance(follow, bool):
        raise ConfigError(f"{path}: follow_symlinks_outside must be true or false")
    fail_under = _number(data.get("fail_under"), "fail_under", path)
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise ConfigError(f"{path}: fail_under is a percentage from 0 to 100, not {fail_under:g}")
    fail_on = data.get("fail_on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigError(f"{path}: fail_on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    waivers = data.get("waivers")
    if waivers is not None and (not isinstance(waivers, str) or not waivers.strip()):
        raise ConfigError(f"{path}: waivers must be the path of a waivers file")
    return Config(
        include=_strings(data, "include", path),
        exclude=_strings(data, "exclude", path),
        frameworks=_strings(data, "frameworks", path),
        cmmi_level=level,
        not_applicable=_per_framework(data, "not_applicable", path, _justification),
        max_age_days=_per_framework(data, "max_age", path, parse_age),
        catalog_folders=tuple(base / p for p in _strings(data, "catalogs", path)),
        labels=base / labels if labels else None,
        fail_under=fail_under,
        fail_on=fail_on,
        waivers=base / waivers if waivers else None,
        all_files=all_files,
        follow_symlinks_outside=follow,
        limits=_limits(_table(data, "limits", path), path),
        source=path,
    )


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key} must be a table")
    return value


def _strings(data: dict, key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)


def _number(value: Any, key: str, path: Path) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be a number")
    return float(value)


def _justification(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("needs a written justification")
    return value.strip()


def parse_age(value: Any) -> int:
    """Days from ``400``, ``"400d"``, ``"18 months"``, ``"1y"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _AGE.match(str(value))
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not an age such as 400, '400d', '18 months' or '1y'")
    unit = (match.group(2) or "d")[0]
    return int(match.group(1)) * _AGE_DAYS[unit]


def _per_framework(data: dict, key: str, path: Path, convert) -> dict[str, dict[str, Any]]:
    table = _table(data, key, path)
    result: dict[str, dict[str, Any]] = {}
    for framework, entries in table.items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: {key}.{framework} must be a table of requirement = value")
        result[framework] = {}
        for requirement, value in _flatten(entries).items():
            try:
                result[framework][str(requirement)] = convert(value)
            except ValueError as exc:
                raise ConfigError(f"{path}: {key}.{framework}.{requirement}: {exc}") from exc
    return result


def _flatten(entries: dict, prefix: str = "") -> dict[str, Any]:
    """Clause ids written unquoted (``9.2 = ...``) are dotted keys to TOML; join them back."""
    flat: dict[str, Any] = {}
    for key, value in entries.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _limits(table: dict, path: Path) -> Limits:
    unknown = sorted(set(table) - _LIMIT_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown limit(s): {', '.join(unknown)}")
    for key, value in table.items():
        low, high = LIMIT_RANGES[key]
        whole = key != "timeout_seconds"
        number = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool)
        if key == "max_memory_bytes" and value == 0 and number:
            continue  # 0 turns the cap off
        if not number or not low <= value <= high:
            kind = "a whole number" if whole else "a number of seconds"
            also = " (or 0: no cap)" if key == "max_memory_bytes" else ""
            span = f"{_figure(low)} to {_figure(high)}"
            raise ConfigError(f"{path}: limits.{key} must be {kind} from {span}{also}, not {value!r}")
    return replace(Limits(), **table)


def _figure(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"
