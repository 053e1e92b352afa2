"""The event log: append-only and hash-chained, so an edit, deletion or insertion shows."""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, select, text, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.canonical import canonical as canonical  # re-exported: the log's callers import it from here
from storage.chains import DEFAULT, chain_of, check_chain, shown
from storage.db import conflict_insert
from storage.models import Event, LogHead, Report

GENESIS_HASH = "0" * 64
STREAM_BATCH = 5000  # events read at a time
SYSTEM = "system"
# The report fields that never change after it is made; their digest goes in its `created` event.
REPORT_CONTENT = (
    "reference", "school", "category", "subject", "subject_person",
    "flags", "allegation", "details", "reporter", "created_at",
)


class EventKind(StrEnum):
    """What happened to a report."""

    CREATED = "created"
    ROUTED = "routed"
    ALERT_DELIVERED = "alert_delivered"
    ACKNOWLEDGED = "acknowledged"
    NOTE_ADDED = "note_added"
    ACTION_RECORDED = "action_recorded"
    ESCALATED = "escalated"
    CLOSED = "closed"
    VIEWED = "viewed"
    REFUSED = "refused"  # someone not entitled (bot/cases/access.py) tried to see or act on a report, or to export
    EXPORTED = "exported"  # the log, or one report's events, exported on a named person's authority
    REMINDED = "reminded"  # the ladder is used up and still nobody has acknowledged: everyone told is reminded
    LADO_DUE = "lado_due"  # an allegation's working day passed with no LADO consultation recorded
    LADO_CONSULTED = "lado_consulted"
    DIGEST_QUEUED = "digest_queued"  # not about one report: the week's digest, by its fingerprint
    DIGEST_DELIVERED = "digest_delivered"
    DELIVERY_FAILED = "delivery_failed"  # a message given up on: the platform said it never can be delivered
    KEYS_ROTATED = "keys_rotated"  # not about one report: stored text re-encrypted under a new key (its fingerprint)
    PLAINTEXT_ENCRYPTED = "plaintext_encrypted"  # text stored before encryption at rest, encrypted at a start
    REASSIGNED = "reassigned"  # a new owner, with the reason's digest: their deadline and the ladder start again
    REOPENED = "reopened"  # a closed report open again, with the reason's digest
    PUPILS_IMPORTED = "pupils_imported"  # not about one report: the school's roster imported (counts, never who)
    CHILD_HISTORY_VIEWED = "child_history_viewed"  # the DSL or a deputy read a child's reports (how many, never who)
    EVIDENCE_ATTACHED = "evidence_attached"  # screenshots stored with a report: their count and sha256 digests only
    EVIDENCE_SHOWN = "evidence_shown"  # a report's screenshots sent to someone entitled to view it (a count only)
    ERASED = "erased"  # a closed report's words erased under retention: the rule, counts, its new content digest
    HELD = "held"  # a legal hold placed on a report (its reason's digest): nothing under hold is erased
    RELEASED = "released"  # a legal hold lifted
    HANDED_ON = "handed_on"  # the report handed on to a record kept elsewhere (a digest of where, never the words)
    SUBJECT_ACCESS = "subject_access"  # not about one report: a person's reports listed (their id, how many shown)
    REPORTER_ASKED = "reporter_asked"  # a question put to the reporter: the note's id and the words' digest
    REPORTER_ANSWERED = "reporter_answered"  # the reporter's answer: its note, the question's, and the digest
    REPORTER_ADDED = "reporter_added"  # something the reporter added later: its note and the digest
    # A request through approval steps (routing.requests), under its AR- reference: digests, never words.
    REQUEST_MADE = "request_made"  # its kind, the digest of its answers, the first step's approver
    REQUEST_PASSED_ON = "request_passed_on"  # a step passed it on to the next
    REQUEST_APPROVED = "request_approved"  # with the reasons' digest
    REQUEST_REFUSED = "request_refused"  # at a step, with the reasons' digest
    REQUEST_DONE = "request_done"  # approved and carried out (the site unblocked), recorded by whom and when
    REQUEST_REMINDED = "request_reminded"  # a step not acted on in time: its approver reminded


# Events whose effect also shows in a row, which verify cross-checks (storage/consistency.py,
# storage/requests_check.py).
FACT_KINDS = {EventKind.ACKNOWLEDGED, EventKind.CLOSED, EventKind.NOTE_ADDED, EventKind.ACTION_RECORDED,
              EventKind.LADO_CONSULTED, EventKind.REASSIGNED, EventKind.REOPENED, EventKind.ERASED,
              EventKind.HELD, EventKind.RELEASED, EventKind.HANDED_ON, EventKind.REPORTER_ASKED,
              EventKind.REPORTER_ANSWERED, EventKind.REPORTER_ADDED, EventKind.REQUEST_MADE,
              EventKind.REQUEST_PASSED_ON, EventKind.REQUEST_APPROVED, EventKind.REQUEST_REFUSED,
              EventKind.REQUEST_DONE, EventKind.REQUEST_REMINDED}


class LogError(RuntimeError):
    """The log cannot be appended to (a head row is gone: the database was not migrated or was tampered with)."""


class Entry(NamedTuple):
    """An event as stored, read without the ORM so that verify sees the rows as they are.

    A named tuple, not a dataclass: verify makes a million of them, and a tuple is made from a row at once.
    """

    seq: int
    at: datetime
    actor: str
    kind: str
    report: str | None
    data: Any
    prev_hash: str
    hash: str
    chain: str  # "" (a lone school, or the trust's own events) or a school's code

    @property
    def label(self) -> str:
        """How a person names this event: `event 7 (acknowledged, SG-2026-0003)`."""
        return label(self.seq, self.kind, self.report)


def label(seq: int, kind: str, report: str | None) -> str:
    """How a person names an event: `event 7 (acknowledged, SG-2026-0003)`."""
    return f"event {seq} ({kind}, {report or 'no report'})"


def as_json_value(value: Mapping[str, object]) -> dict[str, Any]:
    """`value` as it will read back from a JSON column (tuples become lists, keys strings)."""
    loaded: dict[str, Any] = json.loads(canonical(value))
    return loaded


def utc(at: datetime) -> datetime:
    """`at` in UTC; a naive time is refused rather than guessed to be local."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass a timezone-aware UTC time")
    return at.astimezone(UTC)


def timestamp(at: datetime) -> str:
    """ISO 8601 UTC with microseconds: `2026-11-20T09:15:00.123456Z`."""
    if at.tzinfo is not UTC:  # what the database gives back is UTC already: no conversion for each event
        at = utc(at)
    if at.year < 1000:  # strftime leaves %Y unpadded there; isoformat would not, and hashes must not change
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as the strftime above, in half the time (verify formats every event's time):
    # a UTC time's isoformat ends "+00:00", which becomes "Z".
    return at.isoformat(timespec="microseconds")[:-6] + "Z"


def event_hash(
    prev_hash: str, *, seq: int, at: datetime, actor: str, kind: str, report: str | None, data: object, chain: str = DEFAULT
) -> str:
    """sha256 of the previous hash followed by the canonical JSON of the event.

    A school's own chain is named in what is hashed (`"chain": "bpa"`), so an event cannot be
    passed off as another school's; the default chain's events hash as they always have.
    """
    body = {"seq": seq, "at": timestamp(at), "actor": actor, "kind": kind, "report": report, "data": data}
    if chain:
        body["chain"] = chain
    return hashlib.sha256((prev_hash + canonical(body)).encode("utf-8")).hexdigest()


def report_digest(report: Report) -> str:
    """sha256 of a report's immutable content, kept in its `created` event."""
    return content_digest({name: getattr(report, name) for name in REPORT_CONTENT})


def content_digest(content: Mapping[Any, Any]) -> str:
    """sha256 of a report's REPORT_CONTENT fields as read from its row (a Report, or its columns)."""
    fields: dict[str, object] = {name: content[name] for name in REPORT_CONTENT}
    fields["created_at"] = timestamp(content["created_at"])
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


async def lock_head(session: AsyncSession, chain: str, *, write: bool) -> tuple[int, str] | None:
    """Lock a chain's head until this transaction ends and read it: (last seq, last hash).

    Each chain has a head of its own, so on PostgreSQL the schools of a trust append in
    parallel; only events of one school queue for one another.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and write:
        # SQLite has no row locks and ignores FOR UPDATE; a write takes its single write
        # lock now, before the head is read, so no other writer can read the same head.
        # (An UPDATE takes the lock when it starts, even when it finds no row.)
        await session.execute(
            update(LogHead).where(LogHead.chain == chain).values(seq=LogHead.seq),
            execution_options={"synchronize_session": False},
        )
    elif sqlite:
        # A savepoint opens a read transaction (the driver opens none for SELECT): one
        # snapshot for the whole walk, and no write, so a read-only copy can be verified.
        await session.execute(text("SAVEPOINT safeguard_read"))
    query = select(LogHead.seq, LogHead.hash).where(LogHead.chain == chain)
    row = (await session.execute(query.with_for_update(read=not write))).one_or_none()
    if row is None and write and chain != DEFAULT and not await has_events(session, chain):
        # A school's first event starts its chain. Two first events at once: one inserts the
        # head, the other waits for it (PostgreSQL) and then reads and locks the same row.
        await session.execute(conflict_insert(session, LogHead).values(chain=chain, seq=0, hash=GENESIS_HASH)
                              .on_conflict_do_nothing(index_elements=[LogHead.chain]))
        row = (await session.execute(query.with_for_update())).one_or_none()
    return None if row is None else (row[0], row[1])


async def has_events(session: AsyncSession, chain: str) -> bool:
    """Whether `chain` holds any event."""
    return await session.scalar(select(Event.seq).where(Event.chain == chain).limit(1)) is not None


def event_chain(report_ref: str | None, chain: str = DEFAULT) -> str:
    """The chain an event goes in: its report's school's; for an event about no report, `chain`."""
    if report_ref is None:
        return check_chain(chain)
    derived = chain_of(report_ref)
    if chain not in (DEFAULT, derived):
        raise ValueError(f"an event about {report_ref} belongs to chain {derived!r}, not {chain!r}")
    return derived


async def append_event(
    session: AsyncSession,
    *,
    now: datetime,
    actor: str,
    kind: EventKind,
    report_ref: str | None,
    data: Mapping[str, object],
    chain: str = DEFAULT,
) -> Event:
    """Append one event inside the caller's transaction, so it commits with the change it records.

    An event about a report goes in its school's chain (storage.chains); one about no report
    (a roster imported, keys rotated) in `chain`, the trust's own "" unless a school is named.
    """
    payload = as_json_value(data)
    chain = event_chain(report_ref, chain)
    head = await lock_head(session, chain, write=True)
    if head is None:
        raise LogError(f"{shown(chain)}: the event log has no head row: run `safeguard db upgrade`, "
                       "then `safeguard log verify`")
    last_seq, last_hash = head
    seq = last_seq + 1
    at = utc(now)
    digest = event_hash(last_hash, seq=seq, at=at, actor=actor, kind=kind.value, report=report_ref, data=payload,
                        chain=chain)
    event = Event(
        chain=chain, seq=seq, at=at, actor=actor, kind=kind.value, report_ref=report_ref,
        data=payload, prev_hash=last_hash, hash=digest,
    )
    session.add(event)
    await session.flush()
    await session.execute(
        update(LogHead).where(LogHead.chain == chain).values(seq=seq, hash=digest),
        execution_options={"synchronize_session": False},
    )
    return event


async def head_seq(session: AsyncSession, chain: str = DEFAULT) -> int:
    """The seq of a chain's last event (0 for an empty chain); the events up to it never change."""
    head = await session.scalar(select(LogHead.seq).where(LogHead.chain == chain))
    if head is None:
        if chain == DEFAULT or await has_events(session, chain):
            raise LogError(f"{shown(chain)}: the event log has no head row: run `safeguard db upgrade`, "
                           "then `safeguard log verify`")
        return 0
    return head


async def chains(session: AsyncSession) -> list[str]:
    """Every chain the log holds (by its events or its heads), the default one first."""
    found = set(await session.scalars(select(Event.chain).distinct())) | set(await session.scalars(select(LogHead.chain)))
    return sorted(found | {DEFAULT})


async def entries(session: AsyncSession, *where: ColumnElement[bool]) -> AsyncIterator[Entry]:
    """The events matching `where`, chain by chain in seq order, streamed as stored."""
    query = (
        select(
            Event.seq, Event.at, Event.actor, Event.kind, Event.report_ref,
            Event.data, Event.prev_hash, Event.hash, Event.chain,
        )
        .where(*where)
        .order_by(Event.chain, Event.seq)
    )
    # Core, in batches: the ORM's streaming switched threads of control once per row, which was
    # half of verify's time over a million events (issue 8).
    connection = await session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # The time and the data as the driver gives them (text), made into Python here: SQLAlchemy's
        # SQLite datetime parsing (a regular expression per value) was a fifth of verify (issue 24).
        query = query.with_only_columns(
            Event.seq, type_coerce(Event.at, String), Event.actor, Event.kind, Event.report_ref,
            type_coerce(Event.data, String), Event.prev_hash, Event.hash, Event.chain)
    result = await connection.stream(query.execution_options(yield_per=STREAM_BATCH))
    try:
        async for batch in result.partitions():
            if sqlite:
                for seq, at, actor, kind, report, data, prev_hash, digest, chain in batch:
                    yield Entry(seq, sqlite_time(at), actor, kind, report, None if data is None else _loads(data),
                                prev_hash, digest, chain)
            else:
                for row in batch:
                    yield Entry._make(row)
    finally:
        await result.close()


_loads = json.JSONDecoder().decode  # what SQLAlchemy's JSON type does with SQLite's text, without its wrapping


def sqlite_time(stored: str) -> datetime:
    """A time as SQLite keeps it (`2026-11-20 09:15:00.123456`, UTC), as UTCDateTime reads it back."""
    if len(stored) == 26:
        # The shape SQLAlchemy writes, with no zone: read as UTC by the parser itself, five times
        # faster than `replace(tzinfo=UTC)` on what it gives (verify reads a million times).
        return datetime.fromisoformat(stored + "+00:00")
    at = datetime.fromisoformat(stored)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def events_for(session: AsyncSession, report_ref: str) -> list[Entry]:
    """A report's history, oldest first."""
    return [entry async for entry in entries(session, Event.report_ref == report_ref)]


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found: ok, or the first bad event and one line saying what is wrong."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str
    chain: str = DEFAULT  # the chain the first bad event is in
    erased: int = 0  # reports whose words were erased under retention (an `erased` event each), when ok


async def verify(session: AsyncSession, chain: str | None = None) -> VerifyResult:
    """Walk a chain from its event 1 (None: every chain) and name the first event (by seq) that is not as written."""
    # The walk makes millions of small objects and keeps hundreds of thousands (digests, facts)
    # to its end, none of them in a cycle: the cycle collector's repeated passes over them were
    # a fifth of verify's time over a million events (issue 8). Reference counting still frees
    # everything; cycles anyone else made meanwhile are collected once it is back on.
    paused = gc.isenabled()
    gc.disable()
    from storage.walk import walk  # here, not at the top: the walk reads this module's events and hashes

    try:
        return await walk(session, chain)
    finally:
        if paused:
            gc.enable()
