"""What is kept only for a while is forgotten by the scheduler's round: a request form left unfinished
for a day (it may name people, as a report's draft may), and platform event ids past any retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE
from bot.scheduler import Scheduler
from storage.inbound import seen_inbound
from storage.models import Draft, InboundEvent
from tests.integration.console import Clock, Terminal, console_app
from tests.integration.test_console_unblock import URL


async def test_a_request_form_left_for_a_day_is_forgotten_and_a_fresh_one_kept(
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    teacher, officer = Terminal(app, "cfinch"), Terminal(app, "tokafor")
    for terminal in (teacher, officer):
        await terminal.open()
        await terminal.type("/unblock")
    await teacher.type(URL)  # the first answer, then nothing more
    clock.advance(hours=23)
    await officer.type(URL)  # the officer's form was touched an hour before the day is up
    clock.advance(hours=1, minutes=1)
    done = await Scheduler(app).run_once()
    assert done.forms_forgotten == 1
    async with sessions() as session:
        left = (await session.execute(select(Draft.channel, Draft.user_id))).all()
    assert [tuple(row) for row in left] == [(f"{CONSOLE}+request", "tokafor")]
    assert "Full URL?" not in "\n".join(await teacher.type("hello"))  # the words now start a report
    assert (await Scheduler(app).run_once()).forms_forgotten == 0


async def test_event_ids_past_a_day_are_forgotten_and_recent_ones_still_stop_a_retry(
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = console_app(sessions, clock)
    async with sessions.begin() as session:
        assert not await seen_inbound(session, channel="slack", event_id="Ev0OLD")
        assert not await seen_inbound(session, channel="slack", event_id="Ev0NEW")
        await session.execute(update(InboundEvent).where(InboundEvent.event_id == "Ev0OLD")
                              .values(seen_at=datetime.now(UTC) - timedelta(days=1, minutes=1)))
    assert (await Scheduler(app).run_once()).ids_forgotten == 1
    async with sessions.begin() as session:
        assert list(await session.scalars(select(InboundEvent.event_id))) == ["Ev0NEW"]
        assert await seen_inbound(session, channel="slack", event_id="Ev0NEW")  # a retry now is still skipped
