"""Each report's content digest and changing columns, for `log verify`; a large chain's made in a second process.

Reading a report for verify is mostly decrypting its words and its closing reason (two Fernet
tokens) to digest them: over 200,000 reports, half of verify's CPU once the events were hashed
as stored (issue 24). The rows are read here, in verify's own snapshot: a second connection
could see a report committed after the walk's events were read, and call it added outside
Safeguard. Only the decrypting and digesting of a large chain's reports moves to a second
process, which does it while this one walks the chain.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from sqlalchemy import JSON, Dialect, String, Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from storage.chains import in_chain
from storage.consistency import STATE_COLUMNS, ReportState
from storage.crypto import Keyring
from storage.encrypted import EncryptedJSON, EncryptedText, decrypted_json, decrypted_text, keyring_of
from storage.log import REPORT_CONTENT, content_digest, sqlite_time
from storage.models import Report, UTCDateTime

# Below this many reports a second process costs more to start and feed than it saves.
OVERLAP_REPORTS = 20_000
CHUNK = 5_000  # reports read, and handed to the second process, at a time
# Where processes cannot fork (Windows), the reports are digested here, as before.
FORK = "fork" in multiprocessing.get_all_start_methods()

COLUMNS = [*STATE_COLUMNS, *(getattr(Report, name) for name in REPORT_CONTENT if name != "reference")]
NAMES = [column.key for column in COLUMNS]
WIDTH = len(STATE_COLUMNS)
TEXTS = [i for i, column in enumerate(COLUMNS) if isinstance(column.type, EncryptedText)]
DOCUMENTS = [i for i, column in enumerate(COLUMNS) if isinstance(column.type, EncryptedJSON)]
TIMES = [i for i, column in enumerate(COLUMNS) if isinstance(column.type, UTCDateTime)]
# JSON columns, encrypted or not: on SQLite read as their text and parsed where they are digested.
PLAIN_JSON = [i for i, column in enumerate(COLUMNS) if type(column.type) is JSON]

SQLITE_JSON = PLAIN_JSON + DOCUMENTS
_loads = json.JSONDecoder().decode  # what SQLAlchemy's JSON type does with SQLite's text, without its wrapping

Digests = tuple[dict[str, str], list[ReportState]]


def digested(keyring: Keyring, rows: Sequence[Sequence[Any]], sqlite: bool) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
    """Rows as read by `read_reports`: each report's content digest, and its changing columns as a tuple."""
    digests: dict[str, str] = {}
    states: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row)
        if sqlite:
            for i in TIMES:
                if values[i] is not None:
                    values[i] = sqlite_time(values[i])
            for i in SQLITE_JSON:
                if values[i] is not None:
                    values[i] = _loads(values[i])
        for i in TEXTS:
            values[i] = decrypted_text(keyring, values[i])
        for i in DOCUMENTS:
            values[i] = decrypted_json(keyring, values[i])
        digests[values[0]] = content_digest(dict(zip(NAMES, values)))
        states.append(tuple(values[:WIDTH]))
    return digests, states


class PendingDigests:
    """A chain's reports being digested: here as they were read, or by a second process."""

    def __init__(self, dialect: Dialect, sqlite: bool) -> None:
        self.dialect = dialect
        self.sqlite = sqlite
        self.rows: list[tuple[Any, ...]] = []  # read and not yet handed on
        self.pool: ProcessPoolExecutor | None = None
        self.parts: list[asyncio.Future[tuple[dict[str, str], list[tuple[Any, ...]]]]] = []

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        self.rows += [tuple(row) for row in rows]
        if self.pool is None and len(self.rows) >= OVERLAP_REPORTS and FORK:
            # Forked, so the keys reach it without being written anywhere. The child only digests.
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_keep_keyring, initargs=(keyring_of(self.dialect),))
        if self.pool is not None:
            loop = asyncio.get_running_loop()
            self.parts.append(loop.run_in_executor(self.pool, _digested_here, self.rows, self.sqlite))
            self.rows = []

    async def result(self) -> Digests:
        """Every report's digest and state, in the order read; a KeyringError if a token does not open."""
        digests: dict[str, str] = {}
        states: list[ReportState] = []
        parts = [await part for part in self.parts]
        if self.rows:
            # The keys are asked for only when there is a report: a log with none verifies without them.
            parts.append(digested(keyring_of(self.dialect), self.rows, self.sqlite))
        for part_digests, part_states in parts:
            digests.update(part_digests)
            states += map(ReportState._make, part_states)
        return digests, states

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


async def read_reports(session: AsyncSession, chain: str) -> PendingDigests:
    """Read every report of the chain, as stored (its words still encrypted), and start digesting them.

    Columns, not Report objects: building a million objects (and decrypting their text twice)
    was most of verify's time (issue 8). On SQLite the times are read as the text stored and
    parsed by storage.log.sqlite_time (see storage.log.entries).
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    read = []
    for i, column in enumerate(COLUMNS):
        if i in TEXTS:
            read.append(type_coerce(column, Text).label(column.key))  # the token, not decrypted
        elif i in DOCUMENTS and not sqlite:
            read.append(type_coerce(column, JSON).label(column.key))  # the token, a JSON string
        elif i in TIMES + SQLITE_JSON and sqlite:
            read.append(type_coerce(column, String).label(column.key))
        else:
            read.append(column)
    query = select(*read).where(in_chain(Report.reference, chain)).order_by(Report.reference)
    pending = PendingDigests(session.get_bind().dialect, sqlite)
    try:
        result = await (await session.connection()).stream(query.execution_options(yield_per=CHUNK))
        async for rows in result.partitions():
            pending.add(rows)
    except BaseException:
        pending.close()
        raise
    return pending


_keyring: Keyring | None = None  # the second process's keys (see PendingDigests.add)


def _keep_keyring(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def _digested_here(rows: Sequence[Sequence[Any]], sqlite: bool) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
    if _keyring is None:
        raise RuntimeError("this process was not given the keys")
    return digested(_keyring, rows, sqlite)
