"""Builders for storage tests: fictional reports, a small log, and tampering as an admin would do it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from routing.vocabulary import Category, Flag, Subject
from storage.log import EventKind, append_event
from storage.models import RecipientKind, Report
from storage.reports import NewRecipient, acknowledge, create_report, record_routing

NOW = datetime(2026, 11, 20, 9, 15, 0, 123456, tzinfo=UTC)
SCHOOL = "Test Primary School"
DECISION = {
    "owner": "headteacher",
    "informed": ["dsl"],
    "escalation": ["chair_of_governors"],
    "ack_within_minutes": 60,
    "citations": ["Test policy §2: report it to the headteacher"],
}
RECIPIENTS = (
    NewRecipient("head1", "headteacher", RecipientKind.OWNER),
    NewRecipient("dsl1", "dsl", RecipientKind.INFORMED),
    NewRecipient("chair1", "chair_of_governors", RecipientKind.ESCALATION),
)


def minutes(n: float) -> datetime:
    """NOW plus `n` minutes."""
    return NOW + timedelta(minutes=n)


async def new_report(session: AsyncSession, *, now: datetime = NOW, details: Mapping[str, object] | None = None,
                     reporter: str = "staff1", flags: tuple[Flag, ...] = (Flag.ILLEGAL,)) -> Report:
    """A made-up misuse report about a pupil."""
    return await create_report(
        session, now=now, school=SCHOOL, category=Category.MISUSE, subject=Subject.PUPIL,
        reporter=reporter, flags=flags,
        details=details if details is not None else {"what": "Test Pupil A posted a made-up photo", "where": "a made-up app"},
    )


async def six_events(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The log the tampering tests start from.

    1 created SG-2026-0001, 2 routed SG-2026-0001, 3 created SG-2026-0002,
    4 acknowledged SG-2026-0001, 5 note_added SG-2026-0002, 6 viewed SG-2026-0001.
    """
    async with sessions.begin() as session:
        first = await new_report(session)
        await record_routing(session, now=minutes(0.01), report=first, decision_json=DECISION, recipients=RECIPIENTS)
    async with sessions.begin() as session:
        await new_report(session, now=minutes(1), reporter="staff2", flags=(), details={"what": "Test Parent B sent a friend request"})
    async with sessions.begin() as session:
        await acknowledge(session, now=minutes(2), report_ref="SG-2026-0001", person_id="head1")
        await append_event(session, now=minutes(3), actor="dsl1", kind=EventKind.NOTE_ADDED, report_ref="SG-2026-0002",
                           data={"note": "Spoke to the class teacher (made-up)"})
        await append_event(session, now=minutes(4), actor="dsl1", kind=EventKind.VIEWED, report_ref="SG-2026-0001", data={})


async def unguarded(engine: AsyncEngine, *statements: Executable | str) -> None:
    """Run statements with the events triggers out of the way, as an admin bent on tampering would."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        else:
            await connection.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
            await connection.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_delete")
        for statement in statements:
            if isinstance(statement, str):
                await connection.exec_driver_sql(statement)
            else:
                await connection.execute(statement)
