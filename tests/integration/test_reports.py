"""Reports: references, storing a report with its created event atomically, routing, acknowledgement, queries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from routing.vocabulary import Flag
from storage.digests import text_digest
from storage.log import GENESIS_HASH, EventKind, events_for, report_digest
from storage.models import Event, LogHead, NoteKind, Recipient, RecipientKind, Report, Status
from storage.reports import (
    Change,
    ReportNotFound,
    acknowledge,
    add_note,
    close_report,
    get_report,
    get_routing,
    next_reference,
    notes_for,
    open_reports_for,
    record_routing,
)
from tests.integration.helpers import DECISION, NOW, RECIPIENTS, minutes, new_report


async def count(session: AsyncSession, model: type[object]) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_references_count_up_within_a_year_and_restart_each_year(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        first = [await next_reference(session, year=2026) for _ in range(3)]
        other_year = await next_reference(session, year=2027)
    async with sessions.begin() as session:
        later = await next_reference(session, year=2026)
    assert first == ["SG-2026-0001", "SG-2026-0002", "SG-2026-0003"]
    assert other_year == "SG-2027-0001"
    assert later == "SG-2026-0004"


async def test_a_rolled_back_reference_is_given_out_again(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await next_reference(session, year=2026) == "SG-2026-0001"
        await session.rollback()
    async with sessions.begin() as session:
        assert await next_reference(session, year=2026) == "SG-2026-0001"


async def test_a_second_session_waits_for_the_first_and_gets_the_next_reference(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as first, sessions() as second:
        ref_first = await next_reference(first, year=2026)
        waiting = asyncio.create_task(next_reference(second, year=2026))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the second allocation should wait for the first transaction"
        await first.commit()
        ref_second = await waiting
        await second.commit()
    assert (ref_first, ref_second) == ("SG-2026-0001", "SG-2026-0002")


async def test_concurrent_reports_get_distinct_references_and_one_unbroken_log(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def submit(n: int) -> str:
        async with sessions.begin() as session:
            return (await new_report(session, now=minutes(n), reporter=f"staff{n}")).reference

    references = await asyncio.gather(*(submit(n) for n in range(8)))
    assert sorted(references) == [f"SG-2026-{n:04d}" for n in range(1, 9)]
    async with sessions() as session:
        seqs = (await session.scalars(select(Event.seq).order_by(Event.seq))).all()
        assert seqs == list(range(1, 9))


async def test_a_report_is_stored_with_its_created_event(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        report = await new_report(session, flags=(Flag.SCHOOL_DEVICE, Flag.ILLEGAL))
    async with sessions() as session:
        stored = await get_report(session, report.reference)
        assert stored is not None
        assert stored.reference == "SG-2026-0001"
        assert stored.status == Status.OPEN
        assert stored.flags == ["illegal", "school_device"]  # in the engine's flag order, not as ticked
        assert stored.details == {"what": "Test Pupil A posted a made-up photo", "where": "a made-up app"}
        [created] = await events_for(session, report.reference)
        assert (created.seq, created.kind, created.actor, created.at) == (1, "created", "staff1", NOW)
        assert created.data["digest"] == report_digest(stored)
        assert created.data["category"] == "misuse"


async def test_a_failure_after_the_report_rolls_back_the_report_and_its_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            await new_report(session)
            raise RuntimeError("the chat platform went away before we said sent")
    async with sessions() as session:
        assert await count(session, Report) == 0
        assert await count(session, Event) == 0
        assert (await session.execute(select(LogHead.seq, LogHead.hash))).one() == (0, GENESIS_HASH)
    async with sessions.begin() as session:
        assert (await new_report(session)).reference == "SG-2026-0001"


async def test_a_failed_event_insert_rolls_back_the_report(sessions: async_sessionmaker[AsyncSession]) -> None:
    # An event row already at seq 1 makes the created event's insert fail inside the database.
    async with sessions.begin() as session:
        await session.execute(insert(Event).values(
            seq=1, at=NOW, actor="x", kind="viewed", report_ref=None, data={}, prev_hash="0" * 64, hash="1" * 64,
        ))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await new_report(session)
    async with sessions() as session:
        assert await count(session, Report) == 0
        assert await count(session, Event) == 1


async def test_times_read_back_utc_aware_whatever_zone_they_were_given_in(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    summer = timezone(timedelta(hours=1), "BST")
    given = datetime(2026, 7, 1, 10, 30, 15, 654321, tzinfo=summer)
    async with sessions.begin() as session:
        reference = (await new_report(session, now=given)).reference
    async with sessions() as session:
        report = await get_report(session, reference)
        assert report is not None
        assert report.created_at.tzinfo is UTC
        assert report.created_at == given
        assert report.created_at.hour == 9 and report.created_at.microsecond == 654321
        [event] = await events_for(session, reference)
        assert event.at.tzinfo is UTC and event.at == given


async def test_a_naive_time_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="naive"):
            await new_report(session, now=datetime(2026, 11, 20, 9, 15))
        report = await new_report(session)
        with pytest.raises(StatementError, match="naive"):
            await acknowledge(session, now=datetime(2026, 11, 20, 9, 20), report_ref=report.reference, person_id="head1")


async def test_routing_stores_the_decision_recipients_deadline_and_a_routed_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        report = await new_report(session)
        await record_routing(session, now=minutes(0.5), report=report, decision_json=DECISION, recipients=RECIPIENTS)
    async with sessions() as session:
        stored = await get_report(session, "SG-2026-0001")
        assert stored is not None
        assert stored.ack_deadline == NOW + timedelta(minutes=60)
        decision, people = await get_routing(session, stored)
        assert decision is not None
        assert (decision.owner_role, decision.informed, decision.escalation) == ("headteacher", ["dsl"], ["chair_of_governors"])
        assert decision.ack_within_minutes == 60 and decision.citations == DECISION["citations"]
        assert [(p.person_id, p.role, p.kind, p.position) for p in people] == [
            ("head1", "headteacher", "owner", 1), ("dsl1", "dsl", "informed", 1), ("chair1", "chair_of_governors", "escalation", 1),
        ]
        routed = (await events_for(session, "SG-2026-0001"))[1]
        assert (routed.kind, routed.actor) == ("routed", "system")
        assert routed.data["decision"] == DECISION
        assert routed.data["ack_deadline"] == "2026-11-20T10:15:00.123456Z"


async def test_escalation_recipients_keep_their_order(sessions: async_sessionmaker[AsyncSession]) -> None:
    from storage.reports import NewRecipient

    ladder = [NewRecipient(f"p{n}", "dsl", RecipientKind.ESCALATION) for n in (3, 1, 2)]
    async with sessions.begin() as session:
        report = await new_report(session)
        await record_routing(session, now=NOW, report=report, decision_json=DECISION, recipients=ladder)
    async with sessions() as session:
        _, people = await get_routing(session, report)
        assert [(p.person_id, p.position) for p in people] == [("p3", 1), ("p1", 2), ("p2", 3)]


async def test_the_first_acknowledgement_counts_and_a_second_is_a_no_op(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await new_report(session)
    async with sessions.begin() as session:
        won = await acknowledge(session, now=minutes(5), report_ref="SG-2026-0001", person_id="head1")
    async with sessions.begin() as session:
        lost = await acknowledge(session, now=minutes(9), report_ref="SG-2026-0001", person_id="dsl1")
    assert (won.changed, lost.changed) == (True, False)
    first, again = won.report, lost.report
    assert (first.status, first.acknowledged_by, first.acknowledged_at) == ("acknowledged", "head1", minutes(5))
    assert (again.status, again.acknowledged_by, again.acknowledged_at) == ("acknowledged", "head1", minutes(5))
    async with sessions() as session:
        kinds = [e.kind for e in await events_for(session, "SG-2026-0001")]
        assert kinds == ["created", "acknowledged"]


async def test_two_people_acknowledging_at_once_record_one_acknowledgement(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await new_report(session)

    async def ack(person: str) -> Change:
        async with sessions.begin() as session:
            return await acknowledge(session, now=minutes(5), report_ref="SG-2026-0001", person_id=person)

    results = await asyncio.gather(ack("head1"), ack("dsl1"), ack("chair1"))
    assert len({r.report.acknowledged_by for r in results}) == 1
    assert [r.changed for r in results].count(True) == 1
    async with sessions() as session:
        kinds = [e.kind for e in await events_for(session, "SG-2026-0001")]
        assert kinds.count(EventKind.ACKNOWLEDGED) == 1


async def test_a_report_is_closed_once_with_its_decision_and_reason(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await new_report(session)
    async with sessions.begin() as session:
        closed = (await close_report(session, now=minutes(30), report_ref="SG-2026-0001", person_id="head1",
                                     decision="no further action", reason="Made-up reason: resolved with the parent")).report
        again = (await close_report(session, now=minutes(40), report_ref="SG-2026-0001", person_id="dsl1",
                                    decision="referred", reason="other")).report
    assert (again.status, again.closed_at, again.closed_by, again.close_decision) == (
        "closed", minutes(30), "head1", "no further action")
    assert closed.close_reason == "Made-up reason: resolved with the parent"
    async with sessions() as session:
        events = await events_for(session, "SG-2026-0001")
        assert [(e.kind, e.actor, e.data) for e in events[1:]] == [
            ("closed", "head1", {"decision": "no further action",
                                 "reason_digest": text_digest("Made-up reason: resolved with the parent")})]
        # Acknowledging after closing records who acknowledged, and the report stays closed.
        late = (await acknowledge(session, now=minutes(50), report_ref="SG-2026-0001", person_id="head1")).report
        assert (late.status, late.acknowledged_by) == ("closed", "head1")
        with pytest.raises(ReportNotFound):
            await close_report(session, now=NOW, report_ref="SG-2026-0404", person_id="x", decision="d", reason="r")


async def test_acknowledging_an_unknown_report_says_so(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        with pytest.raises(ReportNotFound, match="SG-2026-0404"):
            await acknowledge(session, now=NOW, report_ref="SG-2026-0404", person_id="head1")


async def test_open_reports_for_a_person_are_those_routed_to_them_and_not_closed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        for n in range(3):
            report = await new_report(session, now=minutes(n))
            await record_routing(session, now=minutes(n), report=report, decision_json=DECISION, recipients=RECIPIENTS)
        await new_report(session, now=minutes(9))  # never routed
        closed = await get_report(session, "SG-2026-0002")
        assert closed is not None
        closed.status, closed.closed_at, closed.closed_by = Status.CLOSED.value, minutes(20), "head1"
    async with sessions() as session:
        mine = [r.reference for r in await open_reports_for(session, "head1")]
        informed = [r.reference for r in await open_reports_for(session, "dsl1")]
        ladder = [r.reference for r in await open_reports_for(session, "chair1")]
        assert mine == informed == ["SG-2026-0001", "SG-2026-0003"]
        assert ladder == [], "a rung of the ladder not yet reached has not been told"
        assert await open_reports_for(session, "nobody") == []
        assert await count(session, Recipient) == 9
    async with sessions.begin() as session:
        await session.execute(update(Recipient).where(Recipient.person_id == "chair1", Recipient.report_id == 3)
                              .values(escalated_at=minutes(70)))
    async with sessions() as session:
        assert [r.reference for r in await open_reports_for(session, "chair1")] == ["SG-2026-0003"]


async def test_notes_and_actions_are_kept_in_order_and_the_log_holds_only_their_digest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        report = await new_report(session, reporter="staff1")
    async with sessions.begin() as session:
        await add_note(session, now=minutes(5), report=report, kind=NoteKind.NOTE, author="dsl1",
                       text="Spoke to Test Pupil A's made-up parent")
        await add_note(session, now=minutes(9), report=report, kind=NoteKind.ACTION, author="oso1",
                       text="Blocked example.invalid on the school filter")
    async with sessions() as session:
        notes = await notes_for(session, report)
        events = await events_for(session, report.reference)
    assert [(n.kind, n.author, n.at, n.text) for n in notes] == [
        ("note", "dsl1", minutes(5), "Spoke to Test Pupil A's made-up parent"),
        ("action", "oso1", minutes(9), "Blocked example.invalid on the school filter"),
    ]
    assert [(e.kind, e.actor, e.data) for e in events[1:]] == [
        ("note_added", "dsl1", {"note": notes[0].id, "digest": text_digest(notes[0].text)}),
        ("action_recorded", "oso1", {"note": notes[1].id, "digest": text_digest(notes[1].text)}),
    ]
    assert "Pupil A" not in repr([e.data for e in events[1:]])
