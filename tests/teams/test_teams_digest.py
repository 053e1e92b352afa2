"""The weekly digest in Teams: one message in the governor's chat, its text with the chart as an inline image.

Sent proactively into the chat stored when the governor opened Safeguard, and read back from the
fake Bot Connector. Each test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from bot.app import TEAMS
from bot.outbox.delivery import FIRST_RETRY
from storage.models import DigestDelivery, Event
from tests.builders import DIGEST_WEEK, chart_png, queue_governor_digest, the_digest
from tests.teams.rig import Rig, User

WEEK = DIGEST_WEEK
TEXT = ("Safeguard weekly digest, week 2026-W47\n"
        "Reports: 3 (2 pupil disclosure, 1 social media misuse)\n"
        "Acknowledged within the deadline: 3 of 3\n"
        "Overdue: none")
CHART = chart_png()


async def queue(rig: Rig, chart: bytes | None = CHART) -> None:
    await queue_governor_digest(rig.app, TEAMS, TEXT, chart)


async def digest_row(rig: Rig) -> DigestDelivery:
    return await the_digest(rig.app)


async def delivered_events(rig: Rig) -> int:
    async with rig.app.sessions() as session:
        return len(list(await session.scalars(select(Event).where(Event.kind == "digest_delivered"))))


async def opened(rig: Rig) -> User:
    """The governor has added Safeguard in Teams, and what that set off has finished."""
    governor = rig.user("dwilde")
    await governor.installs()
    await rig.teams.idle()
    return governor


async def test_the_digest_is_one_message_with_its_chart_inline(rig: Rig) -> None:
    governor = await opened(rig)
    await queue(rig)
    await rig.teams.outbox.deliver()  # waits for a round already under way, so the digest has gone

    [sent] = [s for s in rig.fake.to(governor.conversation["id"], "send") if WEEK in s.plain]
    assert sent.plain == TEXT and sent.activity["type"] == "message"
    assert sent.activity["textFormat"] == "plain", "the text is shown as written"
    [image] = sent.images
    assert image["contentType"] == "image/png" and image["name"] == f"safeguard-digest-{WEEK}.png"
    prefix = "data:image/png;base64,"
    assert image["contentUrl"].startswith(prefix)
    assert base64.b64decode(image["contentUrl"].removeprefix(prefix), validate=True) == CHART
    assert sent.activity["attachments"] == [image], "nothing else rides along"
    row = await digest_row(rig)
    assert (row.status, row.attempts, row.external_ref) == ("sent", 1, f"{sent.id} {governor.conversation['id']}")

    before = len(rig.fake.sent)
    await rig.teams.outbox.deliver()
    assert len(rig.fake.sent) == before and await delivered_events(rig) == 1


async def test_a_digest_waits_for_the_governors_chat(rig: Rig) -> None:
    governor = rig.user("dwilde")
    await queue(rig, chart=None)
    await rig.teams.outbox.deliver()
    row = await digest_row(rig)
    assert row.status == "failed" and "open Safeguard in Teams" in (row.last_error or "")
    await governor.installs()  # their chat is known now, and what waited for it goes
    sent = await rig.fake.wait_for(lambda s: s.conversation_id == governor.conversation["id"] and WEEK in s.plain)
    assert sent.images == [] and "attachments" not in sent.activity
    await rig.teams.idle()
    assert (await digest_row(rig)).status == "sent"


async def test_a_message_refused_with_its_chart_goes_as_text_alone(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    governor = await opened(rig)
    rig.fake.fail_next(400, "BadArgument")
    await queue(rig)
    await rig.teams.outbox.deliver()

    [refused] = rig.fake.refused
    assert len(refused.images) == 1
    [sent] = [s for s in rig.fake.to(governor.conversation["id"], "send") if WEEK in s.plain]
    assert sent.plain == TEXT and sent.images == []
    assert "goes without its chart" in caplog.text
    row = await digest_row(rig)
    assert (row.status, row.attempts) == ("sent", 1)


async def test_a_digest_the_connector_refused_goes_next_round(rig: Rig) -> None:
    governor = await opened(rig)
    rig.fake.fail_next(503, "ServiceUnavailable")
    await queue(rig)
    await rig.teams.outbox.deliver()
    row = await digest_row(rig)
    assert (row.status, row.attempts, row.claimed_until) == ("failed", 1, None)
    assert "503" in (row.last_error or "") and not [s for s in rig.fake.sent if WEEK in s.plain]

    await rig.teams.outbox.deliver()
    assert not [s for s in rig.fake.sent if WEEK in s.plain], "not again before its back-off ran out"
    rig.clock.advance(seconds=FIRST_RETRY.total_seconds())
    await rig.teams.outbox.deliver()
    [sent] = [s for s in rig.fake.to(governor.conversation["id"], "send") if WEEK in s.plain]
    assert len(sent.images) == 1, "the next round sends the chart too"
    row = await digest_row(rig)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert await delivered_events(rig) == 1
