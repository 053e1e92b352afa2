"""An event's hash checked over its stored text, for `log verify`: no parsing, no re-encoding (issue 24).

An event's hash is sha256 of the previous hash followed by the canonical JSON of
{"actor", "at", "chain" (when not ""), "data", "kind", "report", "seq"}: keys sorted, no
spaces (storage.log.event_hash). Events are written with their data as that same canonical
text (storage.canonical.CanonicalJSON), so the hashed body can be put together from the
columns as strings, the data's text dropped in as it lies, and hashed, with no JSON parsed or
encoded. An event whose spliced text does not give its hash is then checked the slow way
(parse, encode canonically, hash: storage.log.event_hash), so events stored before this change
(their data written by json.dumps, with spaces and keys unsorted) and re-spaced data still
verify: what is checked is the record, not the bytes the database keeps for it.

Why a match proves the columns are as hashed, not some other split of the same text: every
piece but the data is a JSON string literal made by the canonical encoder's own escaping
(`encode_basestring`), `null`, or the seq's digits, and the time is exactly 27 characters
ending in "Z" (see `sqlite_at`), the length `timestamp()` gives for any year from 1000. A
literal ends at its first unescaped quote, so the actor, time and chain before the data are
read off from the left; the seq is the digits before the closing brace, and each literal after
the data starts at the only quote in it that follows a colon (inside a literal every quote is
escaped as \\"), so the kind and report are read off from the right. The data's text is what is
left between them. Equal text therefore means equal columns, and the data's text is then
exactly the canonical JSON that was hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import String, Text, cast, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from storage.log import STREAM_BATCH, timestamp
from storage.models import Event

_literal: Callable[[str], str] = encode_basestring  # the canonical encoder's escaping (ensure_ascii=False)
_sha256 = hashlib.sha256


def sqlite_at(stored: Any) -> str | None:
    """The hashed text of a time as SQLite keeps it (`2026-11-20 09:15:00.123456` becomes
    `2026-11-20T09:15:00.123456Z`), or None for any other shape (then the slow path decides)."""
    if type(stored) is not str or len(stored) != 26 or stored[10] != " ":
        return None
    return stored[:10] + "T" + stored[11:] + "Z"


def postgres_at(stored: Any) -> str | None:
    """The hashed text of a time as PostgreSQL gives it (a UTC datetime)."""
    return timestamp(stored) if isinstance(stored, datetime) else None


def spliced_hash(prev_hash: str, seq: int, at: str, actor: str, kind: str, report: str | None,
                 data: str, chain_key: str) -> str:
    """sha256 of `prev_hash` and the canonical body spliced from the columns' text.

    `chain_key` is `"chain":"bpa",` for a school's chain and "" for the default one; a TypeError
    from a column of the wrong type (a NULL, a number where text was) means the slow path decides.
    """
    body = (f'{prev_hash}{{"actor":{_literal(actor)},"at":"{at}",{chain_key}"data":{data},'
            f'"kind":{_literal(kind)},"report":{"null" if report is None else _literal(report)},"seq":{seq}}}')
    return _sha256(body.encode("utf-8")).hexdigest()


def chain_key(chain: str) -> str:
    """The chain's part of every hashed body (see `spliced_hash`)."""
    return f'"chain":{_literal(chain)},' if chain else ""


async def stored_events(session: AsyncSession, chain: str) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """A chain's events in seq order, in batches, each column as the driver gives its text.

    Columns: seq, at, actor, kind, report_ref, data, prev_hash, hash. The data is its stored
    text on both databases (PostgreSQL's `json` keeps the text as written, and a cast to text
    gives it back); the time SQLite's text, PostgreSQL's datetime.
    """
    connection = await session.connection()
    sqlite = connection.dialect.name == "sqlite"
    query = (
        select(Event.seq, type_coerce(Event.at, String) if sqlite else Event.at, Event.actor, Event.kind,
               Event.report_ref, type_coerce(Event.data, String) if sqlite else cast(Event.data, Text),
               Event.prev_hash, Event.hash)
        .where(Event.chain == chain)
        .order_by(Event.seq)
    )
    result = await connection.stream(query.execution_options(yield_per=STREAM_BATCH))
    try:
        async for batch in result.partitions():
            yield batch
    finally:
        await result.close()
