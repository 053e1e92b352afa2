"""Canonical JSON, and the column type that stores an event's data as exactly that text.

The log's hash covers each event's data as canonical JSON. Stored as that same text, the data
can be hashed by `log verify` as it lies in the database, without parsing and re-encoding it
for every event (storage/event_text.py, issue 24).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Dialect, TypeDecorator

# json.dumps with these arguments builds an encoder per call; verify calls it once per event, so keep one.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(value: object) -> str:
    """Canonical JSON: sorted keys, no spaces, non-ASCII kept (hashed as UTF-8)."""
    return _CANONICAL.encode(value)


class CanonicalJSON(TypeDecorator[Any]):
    """A JSON column written as canonical JSON text, read back as JSON is.

    Only for the events' data: the engine's serializer (json.dumps, keys in the order given)
    stays as it was for every other JSON column, whose readers may care about that order.
    PostgreSQL's `json` (not `jsonb`) and SQLite keep the text as it was written.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        # Instead of JSON's own, which would encode with the engine's serializer. Both drivers
        # take the text as it is (asyncpg's json codec encodes a str as given).
        def process(value: Any) -> str | None:
            return None if value is None else canonical(value)

        return process
