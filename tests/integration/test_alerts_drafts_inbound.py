"""The outbox of alerts, saved drafts, and deduplicated inbound platform events."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.alerts import CLAIM_SECONDS, claim_alerts, mark_alert_failed, mark_alert_sent, pending_alerts, queue_alert
from storage.models import NoticeKind
from storage.drafts import delete_draft, load_draft, purge_drafts, save_draft
from storage.inbound import seen_inbound
from storage.log import events_for, verify
from tests.integration.helpers import NOW, minutes, new_report


async def test_an_alert_is_queued_once_sent_once_and_logged_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        report = await new_report(session)
        first = await queue_alert(session, now=NOW, report=report, person_id="head1", channel="slack")
        again = await queue_alert(session, now=minutes(1), report=report, person_id="head1", channel="slack")
        other = await queue_alert(session, now=NOW, report=report, person_id="head1", channel="teams")
    assert first.id == again.id != other.id
    assert (first.status, first.attempts, first.queued_at) == ("queued", 0, NOW)
    async with sessions.begin() as session:
        failed = await mark_alert_failed(session, now=minutes(1), delivery_id=first.id, error="ratelimited " * 500)
        assert (failed.status, failed.attempts, len(failed.last_error or "")) == ("failed", 1, 2000)
        assert [a.id for a in await pending_alerts(session)] == [first.id, other.id]
    async with sessions.begin() as session:
        sent = await mark_alert_sent(session, now=minutes(2), delivery_id=first.id, external_ref="1700000000.000100")
        again_sent = await mark_alert_sent(session, now=minutes(3), delivery_id=first.id, external_ref="other")
        late_failure = await mark_alert_failed(session, now=minutes(4), delivery_id=first.id, error="late")
    assert (sent.status, sent.attempts, sent.sent_at, sent.external_ref, sent.last_error) == (
        "sent", 2, minutes(2), "1700000000.000100", None)
    assert (again_sent.sent_at, again_sent.external_ref, late_failure.status) == (minutes(2), "1700000000.000100", "sent")
    async with sessions() as session:
        assert [a.id for a in await pending_alerts(session)] == [other.id]
        delivered = [e for e in await events_for(session, report.reference) if e.kind == "alert_delivered"]
        assert [(e.actor, e.data) for e in delivered] == [("system", {"person": "head1", "channel": "slack", "notice": "alert", "attempts": 2})]
        assert (await verify(session)).ok


async def test_two_senders_claiming_at_once_each_take_a_notice_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        report = await new_report(session)
        queued = [await queue_alert(session, now=NOW, report=report, person_id=f"person{n}", channel="slack")
                  for n in range(6)]
        reminder = await queue_alert(session, now=NOW, report=report, person_id="person0", channel="slack",
                                     kind=NoticeKind.REMINDER, round=1)
        assert reminder.id not in [q.id for q in queued], "each reminder round is its own notice"

    async def claim() -> list[int]:
        async with sessions.begin() as session:
            return [d.id for d, _ in await claim_alerts(session, now=minutes(1), channel="slack")]

    first, second = await asyncio.gather(claim(), claim())
    assert sorted(first + second) == sorted([q.id for q in queued] + [reminder.id]), "every notice claimed once"
    assert not set(first) & set(second)
    assert await claim() == [], "claimed notices are not handed out again while the claim holds"
    async with sessions.begin() as session:
        await mark_alert_failed(session, now=minutes(1), delivery_id=queued[0].id, error="timeout")
    assert await claim() == [queued[0].id], "a failed send is free to be tried again"
    async with sessions.begin() as session:
        later = [d.id for d, _ in await claim_alerts(session, now=minutes(1 + CLAIM_SECONDS / 60 + 1), channel="slack")]
    assert sorted(later) == sorted([q.id for q in queued] + [reminder.id]), "a sender that died lets go in time"


async def test_a_draft_is_saved_replaced_loaded_and_deleted(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        assert await load_draft(session, channel="slack", user_id="U0TEST1") is None
        await save_draft(session, now=NOW, channel="slack", user_id="U0TEST1", state={"step": "category", "answers": {}})
        await save_draft(session, now=NOW, channel="teams", user_id="U0TEST1", state={"step": "subject"})
    async with sessions.begin() as session:
        await save_draft(session, now=minutes(1), channel="slack", user_id="U0TEST1",
                         state={"step": "details", "answers": {"category": "misuse", "flags": ("illegal",)}})
    async with sessions.begin() as session:
        assert await load_draft(session, channel="slack", user_id="U0TEST1") == {
            "step": "details", "answers": {"category": "misuse", "flags": ["illegal"]}}
        assert await delete_draft(session, channel="slack", user_id="U0TEST1") is True
        assert await delete_draft(session, channel="slack", user_id="U0TEST1") is False
        assert await load_draft(session, channel="slack", user_id="U0TEST1") is None
        assert await load_draft(session, channel="teams", user_id="U0TEST1") == {"step": "subject"}


async def test_old_drafts_are_purged(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await save_draft(session, now=NOW, channel="slack", user_id="old", state={})
        await save_draft(session, now=minutes(60), channel="slack", user_id="new", state={})
    async with sessions.begin() as session:
        assert await purge_drafts(session, before=minutes(30)) == 1
        assert await load_draft(session, channel="slack", user_id="old") is None
        assert await load_draft(session, channel="slack", user_id="new") == {}


async def test_an_inbound_event_is_new_once_per_channel(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        assert await seen_inbound(session, channel="slack", event_id="Ev0TEST1") is False
        assert await seen_inbound(session, channel="slack", event_id="Ev0TEST1") is True
        assert await seen_inbound(session, channel="teams", event_id="Ev0TEST1") is False
    async with sessions() as session:
        assert await seen_inbound(session, channel="slack", event_id="Ev0TEST1") is True


async def test_an_inbound_event_rolled_back_is_not_seen(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await seen_inbound(session, channel="slack", event_id="Ev0TEST2") is False
        await session.rollback()
    async with sessions() as session:
        assert await seen_inbound(session, channel="slack", event_id="Ev0TEST2") is False


async def test_a_retried_event_arriving_at_once_is_handled_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def receive() -> bool:
        async with sessions.begin() as session:
            seen = await seen_inbound(session, channel="slack", event_id="Ev0TEST3")
            await asyncio.sleep(0.05)  # the handler's work, while the retry arrives
            return seen

    results = await asyncio.gather(*(receive() for _ in range(5)))
    assert sorted(results) == [False, True, True, True, True]
