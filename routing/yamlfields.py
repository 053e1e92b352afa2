"""Reading YAML mappings field by field, so every error names the file and the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# libyaml's parser when PyYAML was built with it: a trust of 50 school configs and 5,000 staff
# loads in about a second with it, against ten or more in pure Python (bench/generated_trust.py).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InputError(ValueError):
    """Bad input from a file or a caller; the message is one line a person can act on."""


def load_yaml(path: Path) -> Any:
    """Parse a YAML file, turning I/O and syntax problems into one-line InputErrors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({exc.__class__.__name__}: {exc})") from None
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{path}: not valid YAML{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML: {exc}") from None


class Fields:
    """A mapping being read, with the file and field path it came from."""

    def __init__(self, data: object, where: str, path: str = "") -> None:
        self.where = where
        self.path = path
        if not isinstance(data, Mapping):
            raise self.error(f"expected a mapping of keys to values, found {_kind(data)}")
        self.data: Mapping[Any, Any] = data

    def error(self, problem: str, key: str | None = None) -> InputError:
        """An InputError naming the file and the field."""
        field = ".".join(p for p in (self.path, key) if p)
        return InputError(f"{self.where}: {field or 'top level'}: {problem}")

    def only(self, allowed: Iterable[str], *, anchors: bool = False) -> None:
        """Refuse keys outside `allowed` (a typo must not silently drop a rule).

        With `anchors`, keys starting with "." are skipped: they hold YAML anchors
        (shared quotes) that the rules refer to.
        """
        allowed = list(allowed)
        for key in self.data:
            if anchors and isinstance(key, str) and key.startswith("."):
                continue
            if key not in allowed:
                raise self.error(f"unknown key {key!r}; allowed: {', '.join(allowed)}")

    def child(self, key: str) -> Fields:
        """The mapping under `key`."""
        if key not in self.data:
            raise self.error("missing", key)
        return Fields(self.data[key], self.where, self._join(key))

    def nested(self, value: object, key: str) -> Fields:
        """A mapping found at `key` below this one (for entries of maps and lists)."""
        return Fields(value, self.where, self._join(key))

    def string(self, key: str, default: str | None = None) -> str:
        """A non-empty string."""
        value = self.data.get(key, default)
        if value is None:
            raise self.error("missing", key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"expected a non-empty string, found {_kind(value)}", key)
        return value.strip()

    def optional_string(self, key: str) -> str | None:
        """A non-empty string, or None when the key is absent."""
        return self.string(key) if self.data.get(key) is not None else None

    def integer(self, key: str, *, minimum: int = 1) -> int | None:
        """A whole number at least `minimum`, or None when the key is absent."""
        if key not in self.data:
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"expected a whole number of at least {minimum}, found {value!r}", key)
        return value

    def identifiers(self, key: str, default: list[str] | None = None) -> tuple[str, ...]:
        """A list of ids such as role names."""
        value = self.data.get(key, default)
        if value is None:
            raise self.error("missing", key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(f"expected a list of ids, found {_kind(value)}", key)
        for item in value:
            if not isinstance(item, str) or not IDENTIFIER.match(item):
                raise self.error(f"{item!r} is not an id (lower case letters, digits, _)", key)
        if len(set(value)) != len(value):
            raise self.error("lists an id twice", key)
        return tuple(value)

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"[:80]
