"""verify() also catches rows edited behind the log's back: who acknowledged, how a report closed, notes.

The log it starts from: SG-2026-0001 made, routed, acknowledged by head1, noted by dsl1 and
closed by dsl1; SG-2026-0002 made and left open.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Executable, delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.log import VerifyResult, events_for, verify
from storage.models import NoteKind, Report, ReportNote
from storage.escalations import record_lado_consulted
from storage.reports import acknowledge, add_note, close_report, get_report, record_routing
from tests.integration.helpers import DECISION, RECIPIENTS, minutes, new_report, unguarded


async def history(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Make the history above; the seq of each event by kind."""
    async with sessions.begin() as session:
        first = await new_report(session)
        await record_routing(session, now=minutes(0.01), report=first, decision_json=DECISION, recipients=RECIPIENTS)
        await new_report(session, now=minutes(1), reporter="staff2")
    async with sessions.begin() as session:
        await acknowledge(session, now=minutes(2), report_ref="SG-2026-0001", person_id="head1")
        await add_note(session, now=minutes(3), report=first, kind=NoteKind.NOTE, author="dsl1",
                       text="Made-up note: spoke to the class teacher")
        await close_report(session, now=minutes(4), report_ref="SG-2026-0001", person_id="dsl1",
                           decision="no_further_action", reason="Made-up reason")
    async with sessions() as session:
        assert (await verify(session)).ok
        return {e.kind: e.seq for e in await events_for(session, "SG-2026-0001")}


async def after(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], *changes: Executable) -> VerifyResult:
    await unguarded(engine, *changes)
    async with sessions() as session:
        return await verify(session)


def report(ref: str, **values: Any) -> Executable:
    return update(Report).where(Report.reference == ref).values(**values)


ACK_EDITS = {
    "who acknowledged": {"acknowledged_by": "chair1"},
    "when": {"acknowledged_at": minutes(1)},
}
CLOSE_EDITS = {
    "who closed": {"closed_by": "head1"},
    "when": {"closed_at": minutes(9)},
    "the decision": {"close_decision": "police"},
    "the reason": {"close_reason": "A different made-up reason"},
}


@pytest.mark.parametrize("edit", sorted(ACK_EDITS))
async def test_an_edited_acknowledgement_names_the_event(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], edit: str
) -> None:
    seqs = await history(sessions)
    result = await after(engine, sessions, report("SG-2026-0001", **ACK_EDITS[edit]))
    assert (result.ok, result.first_bad_seq) == (False, seqs["acknowledged"])
    assert result.problem == (f"report SG-2026-0001 was edited: who acknowledged it and when no longer match "
                              f"event {seqs['acknowledged']} (acknowledged, SG-2026-0001)")


@pytest.mark.parametrize("edit", sorted(CLOSE_EDITS))
async def test_an_edited_closing_names_the_event(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], edit: str
) -> None:
    seqs = await history(sessions)
    result = await after(engine, sessions, report("SG-2026-0001", **CLOSE_EDITS[edit]))
    assert (result.ok, result.first_bad_seq) == (False, seqs["closed"])
    assert "how it was closed no longer matches" in result.problem


async def test_an_acknowledgement_the_log_never_saw_is_named(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await history(sessions)
    result = await after(engine, sessions, report("SG-2026-0002", acknowledged_by="staff9", acknowledged_at=minutes(5),
                                                  status="acknowledged"))
    assert result.problem == ("report SG-2026-0002 says it was acknowledged, but the log has no acknowledgement of it, "
                              "so the report was edited")


async def test_a_reopened_report_is_named(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    seqs = await history(sessions)
    result = await after(engine, sessions, report("SG-2026-0001", status="open"))
    assert result.first_bad_seq == seqs["closed"]
    assert result.problem == "report SG-2026-0001 was edited: its status is 'open' but the log makes it 'closed'"


async def test_an_edited_deleted_or_added_note_is_named(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seqs = await history(sessions)
    note = f"event {seqs['note_added']} (note_added, SG-2026-0001)"
    edited = await after(engine, sessions, update(ReportNote).values(text="Made-up words the DSL never wrote"))
    assert edited.problem == f"the note of {note} was edited: it no longer matches its digest"
    deleted = await after(engine, sessions, delete(ReportNote))
    assert deleted.problem == f"the note of {note} is missing, so it was deleted"


async def test_a_note_with_no_event_is_named(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    await history(sessions)
    added = await after(engine, sessions, insert(ReportNote).values(
        id=99, report_id=2, kind="note", author="dsl1", at=minutes(8), text="Made-up note added by hand"))
    assert added.problem == "note 99 has no event in the log, so it was added outside Safeguard"


async def test_an_edited_or_invented_lado_consultation_is_named(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seqs = await history(sessions)
    result = await after(engine, sessions, report("SG-2026-0002", lado_consulted_at=minutes(5), lado_consulted_by="head1"))
    assert (result.ok, result.problem) == (False, "report SG-2026-0002 says the LADO was consulted, but the log has no "
                                                  "record of it, so the report was edited")
    await unguarded(engine, report("SG-2026-0002", lado_consulted_at=None, lado_consulted_by=None))
    async with sessions.begin() as session:
        second = await get_report(session, "SG-2026-0002")
        assert second is not None
        assert await record_lado_consulted(session, now=minutes(30), report=second, person_id="head1")
    async with sessions() as session:
        assert (await verify(session)).ok
        consulted = [e.seq for e in await events_for(session, "SG-2026-0002") if e.kind == "lado_consulted"]
    # Backdating the consultation to look in time is what an edit would be for.
    result = await after(engine, sessions, report("SG-2026-0002", lado_consulted_at=minutes(6)))
    assert (result.ok, result.first_bad_seq) == (False, consulted[0])
    assert "who recorded the LADO consultation and when no longer match" in (result.problem or "")
    assert seqs  # the first report's history is untouched
