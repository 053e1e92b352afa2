"""Walking the log's chains for `storage.log.verify`: each event's place and hash, each report's digest, then the rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from json.scanner import make_scanner
from typing import Any, NamedTuple, cast

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.chains import DEFAULT, chain_of, check_chain, in_chain, shown
from storage.consistency import Fact, first_mismatch
from storage.crypto import KeyringError
from storage.event_text import chain_key, postgres_at, spliced_hash, sqlite_at, stored_events
from storage.log import (
    FACT_KINDS, GENESIS_HASH, Entry, EventKind, VerifyResult, event_hash, has_events, label, lock_head, sqlite_time,
)
from storage.models import ApprovalRequest, Event, LogHead, Report
from storage.report_digests import read_reports
from storage.requests_check import requests_mismatch
from storage.sealed import first_undecryptable


async def walk(session: AsyncSession, only: str | None) -> VerifyResult:
    """Walk the chain `only` (None: every chain) and the rows it vouches for; the first problem found."""
    # Hold the heads for the walk, so an append committed half-way is not mistaken for tampering.
    heads = await _lock_heads(session, only)
    names = [check_chain(only)] if only is not None else sorted(
        set(heads) | set(await session.scalars(select(Event.chain).distinct())) | {DEFAULT})
    checked = erased = 0
    for chain in names:
        result = await _verify_chain(session, chain, heads.get(chain))
        if not result.ok:
            problem = f"{shown(chain)}: {result.problem}" if chain else result.problem
            return VerifyResult(ok=False, checked=checked + result.checked, first_bad_seq=result.first_bad_seq,
                                problem=problem, chain=chain)
        checked += result.checked
        erased += result.erased
    if only is None:
        # A report of a school whose chain has no event at all was walked by no chain above.
        stray = await session.scalar(select(Report.reference).where(*(~in_chain(Report.reference, c) for c in names))
                                     .order_by(Report.reference).limit(1))
        if stray is not None:
            return VerifyResult(ok=False, checked=checked, first_bad_seq=None, chain=chain_of(stray),
                                problem=f"report {stray} has no created event in the log, so it was added outside Safeguard")
        # Likewise a request of a school whose chain has no event at all.
        for ref in await session.scalars(select(ApprovalRequest.reference).order_by(ApprovalRequest.reference)):
            if chain_of(ref) not in names:
                return VerifyResult(ok=False, checked=checked, first_bad_seq=None, chain=chain_of(ref),
                                    problem=f"request {ref} has no request_made event in the log, "
                                            "so it was added outside Safeguard")
    return VerifyResult(ok=True, checked=checked, first_bad_seq=None, problem="", erased=erased)


async def _lock_heads(session: AsyncSession, only: str | None) -> dict[str, tuple[int, str]]:
    """Read-lock the heads of `only` (None: every chain) for the walk: chain to (last seq, last hash)."""
    if only is not None:
        head = await lock_head(session, only, write=False)
        return {} if head is None else {only: head}
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("SAVEPOINT safeguard_read"))  # one snapshot: see _lock_head
    rows = await session.execute(select(LogHead.chain, LogHead.seq, LogHead.hash).with_for_update(read=True))
    return {chain: (seq, digest) for chain, seq, digest in rows}


async def _verify_chain(session: AsyncSession, chain: str, head: tuple[int, str] | None) -> VerifyResult:
    if head is None and chain != DEFAULT and not await has_events(session, chain):
        head = (0, GENESIS_HASH)  # a school with nothing logged yet: its chain is empty, not cut short
    try:
        reports = await read_reports(session, chain)
    except KeyringError as exc:
        return await _undecryptable(session, exc)
    try:
        # The chain is walked while the reports are digested (by a second process, for a large chain);
        # what the `created` and `erased` events say of the reports is checked after, in seq order.
        walk = _Walk(head, chain, sqlite=session.get_bind().dialect.name == "sqlite")
        stopped = await _walk_events(session, walk)
        try:
            walk.digests, states = await reports.result()
        except KeyringError as exc:
            return await _undecryptable(session, exc)
    finally:
        reports.close()
    problem = walk.vouched()
    if problem is not None:
        return problem
    if stopped is not None:
        return walk.bad(*stopped)  # now that any earlier report edit held back is known (see `bad`)
    result = walk.finish()
    if not result.ok:
        return result
    # The chain holds; now the rows it vouches for: acknowledgements, closings, notes.
    try:
        mismatch = await first_mismatch(session, walk.facts, states, in_chain(Report.reference, chain))
        mismatch = mismatch or await requests_mismatch(session, walk.facts, chain)
    except KeyringError as exc:
        return await _undecryptable(session, exc)
    if mismatch is not None:
        return VerifyResult(ok=False, checked=result.checked, first_bad_seq=mismatch.seq, problem=mismatch.problem)
    return result


async def _walk_events(session: AsyncSession, walk: _Walk) -> tuple[int | None, str, int] | None:
    """Check each event of the walk's chain in turn; the first problem (seq, what, events checked before it)."""
    check = walk.check
    async for batch in stored_events(session, walk.chain):
        for row in batch:
            problem = check(row)
            if problem is not None:
                return problem
    return None


async def _undecryptable(session: AsyncSession, error: KeyringError) -> VerifyResult:
    """Text the keys do not open was edited (a token altered by one bit fails), or written under another key."""
    where = await first_undecryptable(session)
    if where is None:
        raise error
    return VerifyResult(ok=False, checked=0, first_bad_seq=None,
                        problem=f"{where} cannot be decrypted with the keys given: it was edited, "
                                "or encrypted with a key that is not among them")


class _Walk:
    """The state of one walk along the chain."""

    def __init__(self, head: tuple[int, str] | None, chain: str, *, sqlite: bool) -> None:
        self.digests: dict[str, str] = {}  # each report's content digest, known once the walk is done
        self.vouching: list[_Claim] = []  # the `created` and `erased` events, checked against the digests then
        self.head = head
        self.chain = chain
        self.chain_key = chain_key(chain)
        self.ours: set[str] = set()  # reports seen to be of this chain (each has several events: one match each)
        # The time as the driver gives it: its hashed text (None: left to the slow path), and its value.
        self.at_text = sqlite_at if sqlite else postgres_at
        self.at_value: Callable[[Any], datetime] = sqlite_time if sqlite else _as_is
        self.typed_times = not sqlite  # PostgreSQL's driver gives datetimes, SQLite text
        self.created: set[str] = set()
        # Reports whose row no longer matches their `created` event: tampering, unless an `erased`
        # event later in the chain vouches for exactly the row as it now is (words erased under
        # retention). Each kept as (seq, problem) until the walk's end.
        self.pending: dict[str, tuple[int, str]] = {}
        self.erased: set[str] = set()
        self.facts: list[Fact] = []
        self.checked = 0
        self.prev_hash = GENESIS_HASH
        self.prev_prev_hash: str | None = None
        self.prev_seq = 0  # the event before this one (0: none, the start of the log)

    @property
    def prev_label(self) -> str:
        # Named only when something is wrong: building it for every event was a measurable cost.
        return f"event {self.prev_seq}" if self.prev_seq else "the start of the log"

    def bad(self, seq: int | None, problem: str, checked: int | None = None) -> VerifyResult:
        # A report edit found earlier in the chain (held back in case it was an erasure) comes first.
        earliest = min(self.pending.values(), default=None)
        if earliest is not None and (seq is None or earliest[0] < seq):
            seq, problem = earliest
        return VerifyResult(ok=False, checked=self.checked if checked is None else checked, first_bad_seq=seq,
                            problem=problem)

    def stop(self, seq: int | None, problem: str) -> tuple[int | None, str, int]:
        """The walk's first problem, named once the reports' digests are known (see `_verify_chain`)."""
        return seq, problem, self.checked

    def check(self, row: Sequence[Any]) -> tuple[int | None, str, int] | None:
        """Check one stored event (the columns of storage.event_text.stored_events)."""
        seq, at, actor, kind, report, data, prev_hash, digest = row
        expected = self.checked + 1
        if seq > expected:
            what = "the log starts at" if expected == 1 else f"the log jumps from event {expected - 1} to"
            return self.stop(expected, f"event {expected} is missing: {what} event {seq}, so events were deleted")
        if seq < expected:
            return self.stop(seq, f"{label(seq, kind, report)} is numbered out of sequence: the log should go on at event {expected}")
        if self.head is not None and seq > self.head[0]:
            return self.stop(seq, f"{label(seq, kind, report)} was added outside Safeguard: the log head records only {self.head[0]} events")
        if report is not None and report not in self.ours:
            if chain_of(report) != self.chain:
                return self.stop(seq, f"{label(seq, kind, report)} is about another school's report: it was moved or forged")
            self.ours.add(report)
        if prev_hash != self.prev_hash:
            if prev_hash == self.prev_prev_hash:
                return self.stop(seq - 1, f"{self.prev_label} was inserted: it and event {seq} both follow event {seq - 2}")
            return self.stop(seq, f"{label(seq, kind, report)} is out of place: it does not follow {self.prev_label} (its prev_hash does not match), so events were deleted, inserted or reordered before it")
        entry = None
        at_text = self.at_text(at)
        try:
            spliced = None if at_text is None else spliced_hash(prev_hash, seq, at_text, actor, kind, report, data, self.chain_key)
        except TypeError:
            spliced = None  # a column of the wrong type: the slow path says what is wrong
        if spliced != digest:
            # Stored before data was kept as canonical text, re-spaced, or edited: parse and encode, as written.
            entry = self._entry(row)
            if entry is None or digest != event_hash(
                    prev_hash, seq=seq, at=entry.at, actor=actor, kind=kind, report=report, data=entry.data,
                    chain=self.chain):
                return self.stop(seq, f"{label(seq, kind, report)} was edited: its hash does not match")
        if kind == EventKind.CREATED or kind == EventKind.ERASED:
            entry = entry or self._parsed(row, at_text)
            self.vouching.append(_Claim(seq, kind, report, entry.data.get("digest", None) if isinstance(entry.data, dict)
                                        else _NO_DIGEST))
        if kind in FACT_KINDS:
            entry = entry or self._parsed(row, at_text)
            self.facts.append(Fact(seq, entry.label, kind, report, actor, entry.at, entry.data))
        self.checked += 1
        self.prev_prev_hash, self.prev_hash, self.prev_seq = prev_hash, digest, seq
        return None

    def _entry(self, row: Sequence[Any]) -> Entry | None:
        """The stored event with its time and data read (None: either cannot be, so it was edited)."""
        seq, at, actor, kind, report, data, prev_hash, digest = row
        try:
            return Entry(seq, self.at_value(at), actor, kind, report, None if data is None else _loads(data),
                         prev_hash, digest, self.chain)
        except (TypeError, ValueError):  # not a time, or not JSON (json's error is a ValueError)
            return None

    def _parsed(self, row: Sequence[Any], at_text: str | None) -> Entry:
        """An event whose spliced text gave its hash: its data's text is canonical JSON, and `at_text`
        the time's hashed text (UTC, "Z"), so both are read directly, without the slow path's checks."""
        seq, at, actor, kind, report, data, prev_hash, digest = row
        return Entry(seq, at if self.typed_times else datetime.fromisoformat(cast(str, at_text)), actor, kind, report,
                     _scan(data, 0)[0], prev_hash, digest, self.chain)

    def vouched(self) -> VerifyResult | None:
        """The `created` and `erased` events walked, checked in seq order against the reports' digests."""
        for claim in self.vouching:
            check = self._check_report if claim.kind == EventKind.CREATED else self._check_erased
            problem = check(claim)
            if problem is not None:
                return self.bad(claim.seq, problem, checked=claim.seq - 1)  # as if found on the walk
        return None

    def _check_report(self, entry: _Claim) -> str | None:
        ref = entry.report
        if ref is None:
            return f"{entry.label} names no report"
        if ref in self.created:
            return f"{entry.label} is a second created event for {ref}"
        self.created.add(ref)
        if ref not in self.digests:
            return f"{entry.label}: report {ref} is missing from the reports table, so it was deleted"
        if entry.digest != self.digests[ref]:
            self.pending[ref] = (entry.seq, f"report {ref} was edited after it was made: it no longer matches {entry.label}")
        return None

    def _check_erased(self, entry: _Claim) -> str | None:
        """An erasure vouches for the report's row as erased: words gone, skeleton as it was made."""
        ref = entry.report
        if ref is None or ref not in self.created:
            return f"{entry.label} erases a report the log never created"
        if ref in self.erased:
            return f"{entry.label} is a second erased event for {ref}"
        if entry.digest != self.digests.get(ref):
            self.pending.pop(ref, None)  # the erasure, not the creation, is what the row now fails to match
            return f"report {ref} was edited after its words were erased under retention: it no longer matches {entry.label}"
        self.pending.pop(ref, None)
        self.erased.add(ref)
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
        if self.pending:
            return self.bad(None, "")  # the earliest report edit held back (see `bad`)
        orphans = sorted(set(self.digests) - self.created)
        if orphans:
            return self.bad(None, f"report {orphans[0]} has no created event in the log, so it was added outside Safeguard")
        return VerifyResult(ok=True, checked=last, first_bad_seq=None, problem="", erased=len(self.erased))


class _Claim(NamedTuple):
    """What a `created` or `erased` event says of its report: kept to the walk's end, when the digests are known."""

    seq: int
    kind: str
    report: str | None
    digest: object  # its data's "digest"; _NO_DIGEST when its data is not an object

    @property
    def label(self) -> str:
        return label(self.seq, self.kind, self.report)


_NO_DIGEST = object()  # equal to no digest, not even to a missing report's None

_DECODER = json.JSONDecoder()
_loads = _DECODER.decode  # the data's stored text, read as SQLAlchemy's JSON type would, without its wrapping
# Canonical text has no whitespace around it to skip: the decoder's scanner alone reads it (a third of decode's time).
_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, _DECODER))


def _as_is(at: datetime) -> datetime:
    """PostgreSQL's times come as UTC datetimes already (storage.models.UTCDateTime's result, as asyncpg gives it)."""
    return at
