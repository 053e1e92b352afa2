"""The second clock on allegations: consult the LADO within one working day (KCSIE Part four).

Working days skip weekends and England's bank holidays (from the holidays library); the log
records whether and when the consultation was recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases import lifecycle
from bot.outbox import notices
from bot.app import CONSOLE
from bot.cases.escalation import remind_lado_due
from routing.vocabulary import Category, Subject
from storage.models import NoticeKind
from storage.reports import get_report
from tests.integration.console import Clock, Terminal, console_app, text
from tests.integration.test_escalation import HEAD, logged, reported

FRIDAY_AFTERNOON = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # London is on GMT: 15:00 local


async def test_an_allegation_on_friday_is_due_on_monday_and_the_owner_is_reminded_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock(FRIDAY_AFTERNOON)
    app = console_app(sessions, clock)
    reference = await reported(app, Category.COLLEAGUE_CONCERN, Subject.STAFF, allegation=True)
    [alert] = [n for n in await notices.pending(app, CONSOLE, HEAD) if n.kind is NoticeKind.ALERT]
    assert "Consult the LADO by 15:00 on Mon 23 Nov (one working day, KCSIE Part four)" in alert.replies[0].text
    assert alert.alert is not None and "lado" in [b.action for b in alert.alert.buttons]
    await lifecycle.acknowledge(app, HEAD, reference)  # acknowledged in time: only the LADO clock runs on

    clock.at = datetime(2026, 11, 23, 14, 59, tzinfo=UTC)
    assert await remind_lado_due(app) == [], "the weekend is not counted"
    clock.at = datetime(2026, 11, 23, 15, 1, tzinfo=UTC)
    assert await remind_lado_due(app) == [reference]
    assert await remind_lado_due(app) == [], "reminded once"
    [reminder] = [n for n in await notices.pending(app, CONSOLE, HEAD) if n.kind is NoticeKind.LADO]
    assert reminder.replies[0].text.startswith(f"LADO: {reference} is a possible allegation")
    assert "consulted by 15:00 on Mon 23 Nov" in reminder.replies[0].text

    head = Terminal(app, HEAD)
    printed = await head.type(f"/lado {reference}")
    assert printed[0] == (f"LADO consultation recorded for {reference} at 15:01 on Mon 23 Nov. It was recorded "
                          "after the working day had passed; the log says so.")
    again = await head.type(f"/lado {reference}")
    assert "was already recorded by Jordan Ellis at 15:01 on Mon 23 Nov" in text(again)
    events = await logged(app, reference, "lado_due", "lado_consulted")
    assert [(kind, data.get("in_time")) for kind, data in events] == [("lado_due", None), ("lado_consulted", False)]


async def test_bank_holidays_are_not_working_days_and_a_consultation_in_time_says_so(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock(datetime(2026, 12, 24, 15, 0, tzinfo=UTC))  # Christmas Eve, a Thursday
    app = console_app(sessions, clock)
    reference = await reported(app, Category.COLLEAGUE_CONCERN, Subject.STAFF, allegation=True)
    async with sessions() as session:
        report = await get_report(session, reference)
        assert report is not None
        # Friday 25 Christmas Day, the weekend, Monday 28 Boxing Day (substitute day): Tuesday 29.
        assert report.lado_due_at == datetime(2026, 12, 29, 15, 0, tzinfo=UTC)
    clock.at = datetime(2026, 12, 29, 10, 0, tzinfo=UTC)
    done = await lifecycle.lado_consulted(app, HEAD, reference)
    assert done.changed and done.reply.text == f"LADO consultation recorded for {reference} at 10:00 on Tue 29 Dec."
    clock.at = datetime(2026, 12, 30, 10, 0, tzinfo=UTC)
    assert await remind_lado_due(app) == [], "nothing to remind once it is recorded"
    assert [(kind, data["in_time"]) for kind, data in await logged(app, reference, "lado_consulted")] == [
        ("lado_consulted", True)]


async def test_only_allegations_have_a_lado_clock_and_strangers_cannot_record_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    app = console_app(sessions, Clock(FRIDAY_AFTERNOON))
    concern = await reported(app, Category.COLLEAGUE_CONCERN, Subject.STAFF)
    not_one = await lifecycle.lado_consulted(app, HEAD, concern)
    assert not not_one.changed and "not handled as an allegation" in not_one.reply.text
    allegation = await reported(app, Category.COLLEAGUE_CONCERN, Subject.STAFF, allegation=True)
    refused = await lifecycle.lado_consulted(app, "cfinch", allegation)
    assert not refused.changed and "it was not sent to you" in refused.reply.text
    assert [kind for kind, _ in await logged(app, allegation, "refused")] == ["refused"]


async def test_closing_as_referred_to_the_lado_records_the_consultation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock(FRIDAY_AFTERNOON)
    app = console_app(sessions, clock)
    reference = await reported(app, Category.COLLEAGUE_CONCERN, Subject.STAFF, allegation=True)
    clock.advance(hours=1)
    closed = await lifecycle.close(app, HEAD, reference, "lado", "Made-up reason: the LADO advised a strategy meeting")
    assert closed.changed
    assert [(kind, data["in_time"]) for kind, data in await logged(app, reference, "lado_consulted")] == [
        ("lado_consulted", True)]
