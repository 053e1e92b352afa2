"""Each school of a trust keeps its own chain of the log: it verifies, and exports, on its own."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.export import export_events
from storage.log import GENESIS_HASH, EventKind, append_event, entries, head_seq, verify
from storage.models import Event, LogHead
from tests.integration.helpers import minutes, six_events, unguarded
from tests.integration.trust_helpers import two_schools


async def test_each_school_numbers_its_own_events_from_one(sessions: async_sessionmaker[AsyncSession]) -> None:
    refs = await two_schools(sessions)
    async with sessions() as session:
        stored = [(e.chain, e.seq, e.kind, e.report) async for e in entries(session)]
        heads = dict((await session.execute(select(LogHead.chain, LogHead.seq))).tuples().all())
        assert await head_seq(session, "bpa") == 7 and await head_seq(session, "hol") == 0
    bpa = [(seq, kind) for chain, seq, kind, _ in stored if chain == "bpa"]
    oak = [(seq, kind, report) for chain, seq, kind, report in stored if chain == "oak"]
    assert bpa == [(1, "created"), (2, "routed"), (3, "created"), (4, "routed"), (5, "acknowledged"),
                   (6, "note_added"), (7, "pupils_imported")]
    assert oak == [(1, "created", refs["oak"][0]), (2, "routed", refs["oak"][0])]
    assert heads == {"": 0, "bpa": 7, "oak": 2}


async def test_every_chain_verifies_and_one_school_verifies_alone(sessions: async_sessionmaker[AsyncSession]) -> None:
    await two_schools(sessions)
    async with sessions() as session:
        everything = await verify(session)
    async with sessions() as session:
        bpa = await verify(session, "bpa")
    async with sessions() as session:
        oak = await verify(session, "oak")
    async with sessions() as session:
        hol = await verify(session, "hol")  # a school with nothing logged yet
    assert (everything.ok, everything.checked) == (True, 9)
    assert (bpa.ok, bpa.checked, oak.ok, oak.checked, hol.ok, hol.checked) == (True, 7, True, 2, True, 0)


async def test_an_edit_in_one_schools_chain_is_named_and_the_other_still_verifies(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    refs = await two_schools(sessions)
    await unguarded(engine, update(Event).where(Event.chain == "bpa", Event.seq == 5).values(actor="pshah"))
    async with sessions() as session:
        bpa = await verify(session, "bpa")
    async with sessions() as session:
        oak = await verify(session, "oak")
    async with sessions() as session:
        everything = await verify(session)
    edited = f"event 5 (acknowledged, {refs['bpa'][0]}) was edited: its hash does not match"
    assert (bpa.ok, bpa.first_bad_seq, bpa.chain, bpa.problem) == (False, 5, "bpa", f"school BPA's records: {edited}")
    assert (oak.ok, oak.checked) == (True, 2)
    assert (everything.ok, everything.problem) == (False, f"school BPA's records: {edited}")


async def test_a_deleted_event_and_a_report_moved_between_chains_are_named(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await two_schools(sessions)
    await unguarded(engine, delete(Event).where(Event.chain == "oak", Event.seq == 2))
    async with sessions() as session:
        oak = await verify(session, "oak")
    assert oak.problem == ("school OAK's records: event 2 is missing: the log ends at event 1 but 2 events were "
                           "written, so the last were deleted")
    # An event taken from one school's chain and put into another's, renumbered to fit.
    await unguarded(engine, update(Event).where(Event.chain == "bpa", Event.seq == 7).values(chain="oak", seq=2))
    async with sessions() as session:
        oak = await verify(session, "oak")
    async with sessions() as session:
        bpa = await verify(session, "bpa")
    assert oak.problem.startswith("school OAK's records: event 2 (pupils_imported, no report) ")
    assert bpa.problem.startswith("school BPA's records: event 7 is missing")


async def test_a_schools_whole_chain_deleted_shows_in_the_full_check(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    refs = await two_schools(sessions)
    await unguarded(engine, delete(Event).where(Event.chain == "oak"), delete(LogHead).where(LogHead.chain == "oak"))
    async with sessions() as session:
        everything = await verify(session)
    assert everything.problem == f"report {refs['oak'][0]} has no created event in the log, so it was added outside Safeguard"


async def test_an_export_of_one_school_holds_none_of_anothers_and_rechecks_on_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    refs = await two_schools(sessions)
    async with sessions() as session:
        text = "".join([line async for line in export_events(session, fmt="jsonl", chain="bpa")])
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert {r["report"] for r in records} == {*refs["bpa"], None}
    assert refs["oak"][0] not in text and "oak" not in text
    prev = GENESIS_HASH
    for record in records:
        body = {key: record[key] for key in ("seq", "at", "actor", "kind", "report", "data", "chain")}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest() == record["hash"]
        prev = record["hash"]


async def test_a_lone_schools_log_stays_in_the_default_chain(sessions: async_sessionmaker[AsyncSession]) -> None:
    await six_events(sessions)
    async with sessions.begin() as session:
        await append_event(session, now=minutes(9), actor="system", kind=EventKind.KEYS_ROTATED, report_ref=None, data={})
    async with sessions() as session:
        assert {e.chain async for e in entries(session)} == {""}
        assert (await verify(session, "")).checked == 7
