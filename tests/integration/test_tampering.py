"""verify() names the first bad event for every way an admin could change the log behind our back.

Each case first gets the triggers out of the way (a malicious admin would), then changes rows
directly. The log it starts from is helpers.six_events:
1 created SG-2026-0001, 2 routed SG-2026-0001, 3 created SG-2026-0002,
4 acknowledged SG-2026-0001, 5 note_added SG-2026-0002, 6 viewed SG-2026-0001.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Executable, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.log import VerifyResult, event_hash, verify
from storage.models import Event, LogHead, Report
from tests.integration.helpers import NOW, minutes, six_events, unguarded

Hashes = dict[int, str]


async def tampered(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                   change: Callable[[Hashes], list[Executable]]) -> VerifyResult:
    await six_events(sessions)
    async with sessions() as session:
        hashes = {seq: digest for seq, digest in await session.execute(select(Event.seq, Event.hash))}
        assert (await verify(session)).ok
    await unguarded(engine, *change(hashes))
    async with sessions() as session:
        return await verify(session)


def edit_event(which: int, **values: Any) -> Callable[[Hashes], list[Executable]]:
    return lambda _: [update(Event).where(Event.seq == which).values(**values)]


def renumber(from_seq: int, by: int) -> list[Executable]:
    """Shift events from `from_seq` on by `by`, in two steps so no two rows share a seq on the way."""
    return [
        update(Event).where(Event.seq >= from_seq).values(seq=Event.seq + 1000),
        update(Event).where(Event.seq >= 1000).values(seq=Event.seq - 1000 + by),
    ]


def forged(seq: int, prev_hash: str, **overrides: Any) -> dict[str, Any]:
    """An event with a correctly computed hash: anyone with the database can compute one."""
    fields: dict[str, Any] = {"at": minutes(2.5), "actor": "head1", "kind": "closed", "report_ref": "SG-2026-0001",
                              "data": {"decision": "no further action", "reason": "made up"}}
    fields.update(overrides)
    digest = event_hash(prev_hash, seq=seq, at=fields["at"], actor=fields["actor"], kind=fields["kind"],
                        report=fields["report_ref"], data=fields["data"])
    return {"seq": seq, "prev_hash": prev_hash, "hash": digest, **fields}


def swap(a: int, b: int) -> list[Executable]:
    return [
        update(Event).where(Event.seq == a).values(seq=-1),
        update(Event).where(Event.seq == b).values(seq=a),
        update(Event).where(Event.seq == -1).values(seq=b),
    ]


EVENT_EDITS = {
    "at": edit_event(4, at=minutes(2) + timedelta(microseconds=1)),
    "actor": edit_event(4, actor="dsl1"),
    "kind": edit_event(4, kind="closed"),
    "report": edit_event(4, report_ref="SG-2026-0002"),
    "data": edit_event(4, data={"by": "dsl1"}),
    "hash": edit_event(4, hash="e" * 64),
}


@pytest.mark.parametrize("field", sorted(EVENT_EDITS))
async def test_editing_any_field_of_an_event_names_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], field: str
) -> None:
    result = await tampered(engine, sessions, EVENT_EDITS[field])
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert result.problem.startswith("event 4 (")
    assert result.problem.endswith("was edited: its hash does not match")


async def test_the_problem_line_names_the_event_plainly(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await tampered(engine, sessions, EVENT_EDITS["actor"])
    assert result.problem == "event 4 (acknowledged, SG-2026-0001) was edited: its hash does not match"


async def test_editing_an_events_prev_hash_names_it(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await tampered(engine, sessions, edit_event(4, prev_hash="f" * 64))
    assert (result.first_bad_seq, result.ok) == (4, False)
    assert "event 4 (acknowledged, SG-2026-0001) is out of place" in result.problem


async def test_renumbering_an_event_names_the_seq_it_left(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await tampered(engine, sessions, edit_event(4, seq=40))
    assert result.first_bad_seq == 4
    assert result.problem == "event 4 is missing: the log jumps from event 3 to event 5, so events were deleted"


@pytest.mark.parametrize(("seq", "problem"), [
    (1, "event 1 is missing: the log starts at event 2, so events were deleted"),
    (3, "event 3 is missing: the log jumps from event 2 to event 4, so events were deleted"),
    (6, "event 6 is missing: the log ends at event 5 but 6 events were written, so the last were deleted"),
], ids=["first", "middle", "last"])
async def test_deleting_an_event_names_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], seq: int, problem: str
) -> None:
    result = await tampered(engine, sessions, lambda _: [delete(Event).where(Event.seq == seq)])
    assert (result.ok, result.first_bad_seq, result.problem) == (False, seq, problem)


async def test_deleting_an_event_and_renumbering_the_rest_names_the_gap(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def change(hashes: Hashes) -> list[Executable]:
        return [delete(Event).where(Event.seq == 4), *renumber(5, -1),
                update(LogHead).values(seq=5, hash=hashes[6])]

    result = await tampered(engine, sessions, change)
    assert result.first_bad_seq == 4
    assert result.problem.startswith("event 4 (note_added, SG-2026-0002) is out of place: it does not follow event 3")


async def test_deleting_every_event_is_caught_by_the_head(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await tampered(engine, sessions, lambda _: [delete(Event)])
    assert result.first_bad_seq == 1
    assert "event 1 is missing: the log ends at event 0 but 6 events were written" in result.problem


@pytest.mark.parametrize("hashed", [False, True], ids=["bad-hash", "forged-hash"])
async def test_an_event_added_at_the_end_names_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], hashed: bool
) -> None:
    def change(hashes: Hashes) -> list[Executable]:
        row = forged(7, hashes[6])
        if not hashed:
            row["hash"] = "a" * 64
        return [insert(Event).values(**row)]

    result = await tampered(engine, sessions, change)
    assert (result.first_bad_seq, result.checked) == (7, 6)
    assert result.problem == "event 7 (closed, SG-2026-0001) was added outside Safeguard: the log head records only 6 events"


async def test_an_event_inserted_in_the_middle_with_a_forged_hash_names_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def change(hashes: Hashes) -> list[Executable]:
        return [*renumber(3, 1), insert(Event).values(**forged(3, hashes[2])), update(LogHead).values(seq=7)]

    result = await tampered(engine, sessions, change)
    assert result.first_bad_seq == 3
    assert result.problem == "event 3 was inserted: it and event 4 both follow event 2"


async def test_an_event_inserted_in_the_middle_with_a_bad_hash_names_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def change(hashes: Hashes) -> list[Executable]:
        return [*renumber(3, 1), insert(Event).values(**{**forged(3, hashes[2]), "hash": "b" * 64})]

    result = await tampered(engine, sessions, change)
    assert result.first_bad_seq == 3
    assert result.problem == "event 3 (closed, SG-2026-0001) was edited: its hash does not match"


@pytest.mark.parametrize(("a", "b"), [(2, 4), (5, 6), (1, 3)])
async def test_reordered_events_name_the_first_out_of_place(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], a: int, b: int
) -> None:
    result = await tampered(engine, sessions, lambda _: swap(a, b))
    assert (result.ok, result.first_bad_seq) == (False, a)
    assert f"event {a} (" in result.problem and "is out of place" in result.problem


async def test_swapped_contents_under_the_same_seqs_name_the_first(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def change(_: Hashes) -> list[Executable]:
        return [
            update(Event).where(Event.seq == 2).values(actor="head1", kind="acknowledged", data={"by": "head1"}, at=minutes(2)),
            update(Event).where(Event.seq == 4).values(actor="system", kind="routed", data={}, at=minutes(0.01)),
        ]

    result = await tampered(engine, sessions, change)
    assert result.first_bad_seq == 2
    assert result.problem == "event 2 (acknowledged, SG-2026-0001) was edited: its hash does not match"


@pytest.mark.parametrize(("reference", "seq"), [("SG-2026-0001", 1), ("SG-2026-0002", 3)])
async def test_a_deleted_report_names_its_created_event(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], reference: str, seq: int
) -> None:
    result = await tampered(engine, sessions, lambda _: [delete(Report).where(Report.reference == reference)])
    assert result.first_bad_seq == seq
    assert result.problem == (
        f"event {seq} (created, {reference}): report {reference} is missing from the reports table, so it was deleted"
    )


REPORT_EDITS = {
    "details": {"details": {"what": "something milder"}},
    "category": {"category": "friend_request"},
    "subject": {"subject": "parent"},
    "subject_person": {"subject_person": "staff9"},
    "flags": {"flags": ["immediate_risk"]},
    "allegation": {"allegation": True},
    "reporter": {"reporter": "staff9"},
    "created_at": {"created_at": NOW + timedelta(minutes=1, seconds=1)},
    "school": {"school": "Another Test School"},
}


@pytest.mark.parametrize("field", sorted(REPORT_EDITS))
async def test_an_edited_report_names_its_created_event(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], field: str
) -> None:
    edit = update(Report).where(Report.reference == "SG-2026-0002").values(**REPORT_EDITS[field])
    result = await tampered(engine, sessions, lambda _: [edit])
    assert result.first_bad_seq == 3
    assert result.problem == "report SG-2026-0002 was edited after it was made: it no longer matches event 3 (created, SG-2026-0002)"


async def test_a_renamed_report_is_missing_from_its_created_event(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    edit = update(Report).where(Report.reference == "SG-2026-0002").values(reference="SG-2026-0099")
    result = await tampered(engine, sessions, lambda _: [edit])
    assert result.first_bad_seq == 3
    assert "report SG-2026-0002 is missing" in result.problem


async def test_a_report_without_a_created_event_is_named(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    row = {"reference": "SG-2026-0099", "school": "Test Primary School", "category": "misuse", "subject": "pupil",
           "flags": [], "allegation": False, "details": {}, "reporter": "staff9", "status": "open", "created_at": NOW}
    result = await tampered(engine, sessions, lambda _: [insert(Report).values(**row)])
    assert (result.ok, result.first_bad_seq, result.checked) == (False, None, 6)
    assert result.problem == "report SG-2026-0099 has no created event in the log, so it was added outside Safeguard"


async def test_a_replaced_last_event_is_caught_by_the_heads_hash(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    def change(hashes: Hashes) -> list[Executable]:
        replacement = forged(6, hashes[5], kind="viewed", data={}, actor="dsl1")
        return [delete(Event).where(Event.seq == 6), insert(Event).values(**replacement)]

    result = await tampered(engine, sessions, change)
    assert result.first_bad_seq == 6
    assert result.problem == "event 6 does not match the log head's hash, so it was replaced"


async def test_a_deleted_head_row_is_named(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await tampered(engine, sessions, lambda _: [delete(LogHead)])
    assert (result.ok, result.first_bad_seq) == (False, None)
    assert "log head row is missing" in result.problem
