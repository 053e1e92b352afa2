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

from sqlalchemy import ColumnElement, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.chains import DEFAULT, chain_of, check_chain, in_chain, shown
from storage.consistency import STATE_COLUMNS, Fact, ReportState, first_mismatch
from storage.crypto import KeyringError
from storage.db import conflict_insert
from storage.models import Event, LogHead, Report
from storage.sealed import first_undecryptable

GENESIS_HASH = "0" * 64
STREAM_BATCH = 1000  # events read at a time
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


# Events whose effect also shows in a row, which verify cross-checks (storage/consistency.py).
FACT_KINDS = {EventKind.ACKNOWLEDGED, EventKind.CLOSED, EventKind.NOTE_ADDED, EventKind.ACTION_RECORDED,
              EventKind.LADO_CONSULTED, EventKind.REASSIGNED, EventKind.REOPENED}


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
        return f"event {self.seq} ({self.kind}, {self.report or 'no report'})"


# json.dumps with these arguments builds an encoder per call; verify calls it once per event, so keep one.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(value: object) -> str:
    """Canonical JSON: sorted keys, no spaces, non-ASCII kept (hashed as UTF-8)."""
    return _CANONICAL.encode(value)


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
    at = utc(at)
    if at.year < 1000:  # strftime leaves %Y unpadded there; isoformat would not, and hashes must not change
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as the strftime above, in half the time (verify formats every event's time).
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


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


async def _lock_head(session: AsyncSession, chain: str, *, write: bool) -> tuple[int, str] | None:
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
    if row is None and write and chain != DEFAULT and not await _has_events(session, chain):
        # A school's first event starts its chain. Two first events at once: one inserts the
        # head, the other waits for it (PostgreSQL) and then reads and locks the same row.
        await session.execute(conflict_insert(session, LogHead).values(chain=chain, seq=0, hash=GENESIS_HASH)
                              .on_conflict_do_nothing(index_elements=[LogHead.chain]))
        row = (await session.execute(query.with_for_update())).one_or_none()
    return None if row is None else (row[0], row[1])


async def _has_events(session: AsyncSession, chain: str) -> bool:
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
    head = await _lock_head(session, chain, write=True)
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
        if chain == DEFAULT or await _has_events(session, chain):
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
    result = await connection.stream(query.execution_options(yield_per=STREAM_BATCH))
    try:
        async for batch in result.partitions():
            for row in batch:
                yield Entry._make(row)
    finally:
        await result.close()


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


async def verify(session: AsyncSession, chain: str | None = None) -> VerifyResult:
    """Walk a chain from its event 1 (None: every chain) and name the first event (by seq) that is not as written."""
    # The walk makes millions of small objects and keeps hundreds of thousands (digests, facts)
    # to its end, none of them in a cycle: the cycle collector's repeated passes over them were
    # a fifth of verify's time over a million events (issue 8). Reference counting still frees
    # everything; cycles anyone else made meanwhile are collected once it is back on.
    paused = gc.isenabled()
    gc.disable()
    try:
        return await _verify(session, chain)
    finally:
        if paused:
            gc.enable()


async def _verify(session: AsyncSession, only: str | None) -> VerifyResult:
    # Hold the heads for the walk, so an append committed half-way is not mistaken for tampering.
    heads = await _lock_heads(session, only)
    names = [check_chain(only)] if only is not None else sorted(
        set(heads) | set(await session.scalars(select(Event.chain).distinct())) | {DEFAULT})
    checked = 0
    for chain in names:
        result = await _verify_chain(session, chain, heads.get(chain))
        if not result.ok:
            problem = f"{shown(chain)}: {result.problem}" if chain else result.problem
            return VerifyResult(ok=False, checked=checked + result.checked, first_bad_seq=result.first_bad_seq,
                                problem=problem, chain=chain)
        checked += result.checked
    if only is None:
        # A report of a school whose chain has no event at all was walked by no chain above.
        stray = await session.scalar(select(Report.reference).where(*(~in_chain(Report.reference, c) for c in names))
                                     .order_by(Report.reference).limit(1))
        if stray is not None:
            return VerifyResult(ok=False, checked=checked, first_bad_seq=None, chain=chain_of(stray),
                                problem=f"report {stray} has no created event in the log, so it was added outside Safeguard")
    return VerifyResult(ok=True, checked=checked, first_bad_seq=None, problem="")


async def _lock_heads(session: AsyncSession, only: str | None) -> dict[str, tuple[int, str]]:
    """Read-lock the heads of `only` (None: every chain) for the walk: chain to (last seq, last hash)."""
    if only is not None:
        head = await _lock_head(session, only, write=False)
        return {} if head is None else {only: head}
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("SAVEPOINT safeguard_read"))  # one snapshot: see _lock_head
    rows = await session.execute(select(LogHead.chain, LogHead.seq, LogHead.hash).with_for_update(read=True))
    return {chain: (seq, digest) for chain, seq, digest in rows}


async def _verify_chain(session: AsyncSession, chain: str, head: tuple[int, str] | None) -> VerifyResult:
    if head is None and chain != DEFAULT and not await _has_events(session, chain):
        head = (0, GENESIS_HASH)  # a school with nothing logged yet: its chain is empty, not cut short
    try:
        digests, states = await _reports(session, chain)
    except KeyringError as exc:
        return await _undecryptable(session, exc)
    walk = _Walk(digests, head)
    async for entry in entries(session, Event.chain == chain):
        problem = walk.check(entry)
        if problem is not None:
            return problem
    result = walk.finish()
    if not result.ok:
        return result
    # The chain holds; now the rows it vouches for: acknowledgements, closings, notes.
    try:
        mismatch = await first_mismatch(session, walk.facts, states, in_chain(Report.reference, chain))
    except KeyringError as exc:
        return await _undecryptable(session, exc)
    if mismatch is not None:
        return VerifyResult(ok=False, checked=result.checked, first_bad_seq=mismatch.seq, problem=mismatch.problem)
    return result


async def _undecryptable(session: AsyncSession, error: KeyringError) -> VerifyResult:
    """Text the keys do not open was edited (a token altered by one bit fails), or written under another key."""
    where = await first_undecryptable(session)
    if where is None:
        raise error
    return VerifyResult(ok=False, checked=0, first_bad_seq=None,
                        problem=f"{where} cannot be decrypted with the keys given: it was edited, "
                                "or encrypted with a key that is not among them")


async def _reports(session: AsyncSession, chain: str) -> tuple[dict[str, str], list[ReportState]]:
    """Every report of the chain: its content digest, and its changing columns for the facts; each text decrypted once.

    Columns, not Report objects: building a million objects (and decrypting their text twice,
    once for the digests and once for the facts) was most of verify's time (issue 8).
    """
    content = [getattr(Report, name) for name in REPORT_CONTENT if name != "reference"]
    digests: dict[str, str] = {}
    states: list[ReportState] = []
    width = len(STATE_COLUMNS)
    query = select(*STATE_COLUMNS, *content).where(in_chain(Report.reference, chain)).order_by(Report.reference)
    for row in await session.execute(query):
        digests[row.reference] = content_digest(row._mapping)
        states.append(ReportState._make(row[:width]))
    return digests, states


class _Walk:
    """The state of one walk along the chain."""

    def __init__(self, digests: dict[str, str], head: tuple[int, str] | None) -> None:
        self.digests = digests
        self.head = head
        self.created: set[str] = set()
        self.facts: list[Fact] = []
        self.checked = 0
        self.prev_hash = GENESIS_HASH
        self.prev_prev_hash: str | None = None
        self.prev_seq = 0  # the event before this one (0: none, the start of the log)

    @property
    def prev_label(self) -> str:
        # Named only when something is wrong: building it for every event was a measurable cost.
        return f"event {self.prev_seq}" if self.prev_seq else "the start of the log"

    def bad(self, seq: int | None, problem: str) -> VerifyResult:
        return VerifyResult(ok=False, checked=self.checked, first_bad_seq=seq, problem=problem)

    def check(self, entry: Entry) -> VerifyResult | None:
        expected = self.checked + 1
        if entry.seq > expected:
            what = "the log starts at" if expected == 1 else f"the log jumps from event {expected - 1} to"
            return self.bad(expected, f"event {expected} is missing: {what} event {entry.seq}, so events were deleted")
        if entry.seq < expected:
            return self.bad(entry.seq, f"{entry.label} is numbered out of sequence: the log should go on at event {expected}")
        if self.head is not None and entry.seq > self.head[0]:
            return self.bad(entry.seq, f"{entry.label} was added outside Safeguard: the log head records only {self.head[0]} events")
        if entry.report is not None and chain_of(entry.report) != entry.chain:
            return self.bad(entry.seq, f"{entry.label} is about another school's report: it was moved or forged")
        if entry.prev_hash != self.prev_hash:
            if entry.prev_hash == self.prev_prev_hash:
                return self.bad(entry.seq - 1, f"{self.prev_label} was inserted: it and event {entry.seq} both follow event {entry.seq - 2}")
            return self.bad(entry.seq, f"{entry.label} is out of place: it does not follow {self.prev_label} (its prev_hash does not match), so events were deleted, inserted or reordered before it")
        recomputed = event_hash(
            entry.prev_hash, seq=entry.seq, at=entry.at, actor=entry.actor,
            kind=entry.kind, report=entry.report, data=entry.data, chain=entry.chain,
        )
        if recomputed != entry.hash:
            return self.bad(entry.seq, f"{entry.label} was edited: its hash does not match")
        if entry.kind == EventKind.CREATED:
            problem = self._check_report(entry)
            if problem is not None:
                return self.bad(entry.seq, problem)
        elif entry.kind in FACT_KINDS:
            self.facts.append(Fact(entry.seq, entry.label, entry.kind, entry.report, entry.actor, entry.at, entry.data))
        self.checked += 1
        self.prev_prev_hash, self.prev_hash, self.prev_seq = self.prev_hash, entry.hash, entry.seq
        return None

    def _check_report(self, entry: Entry) -> str | None:
        ref = entry.report
        if ref is None:
            return f"{entry.label} names no report"
        if ref in self.created:
            return f"{entry.label} is a second created event for {ref}"
        self.created.add(ref)
        if ref not in self.digests:
            return f"{entry.label}: report {ref} is missing from the reports table, so it was deleted"
        if not isinstance(entry.data, dict) or entry.data.get("digest") != self.digests[ref]:
            return f"report {ref} was edited after it was made: it no longer matches {entry.label}"
        return None

    def finish(self) -> VerifyResult:
        last = self.checked
        if self.head is None:
            return self.bad(None, "the log head row is missing, so the log's end cannot be checked: it was deleted")
        head_seq, head_hash = self.head
        if head_seq > last:
            return self.bad(last + 1, f"event {last + 1} is missing: the log ends at event {last} but {head_seq} events were written, so the last were deleted")
        if head_hash != self.prev_hash:
            return self.bad(last, f"event {last} does not match the log head's hash, so it was replaced")
        orphans = sorted(set(self.digests) - self.created)
        if orphans:
            return self.bad(None, f"report {orphans[0]} has no created event in the log, so it was added outside Safeguard")
        return VerifyResult(ok=True, checked=last, first_bad_seq=None, problem="")
