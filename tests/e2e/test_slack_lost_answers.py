"""Slack posts a message and its answer is lost (the connection drops): nothing is shown twice.

The fake Slack does every third chat.postMessage and then closes the connection without
answering, while staff report side by side over signed HTTP. Every alert, receipt and
dialog question must still reach its DM, and each only once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from sqlalchemy import select

from storage.models import AlertDelivery
from tests.e2e.fake_slack import words_of
from tests.e2e.reports import CHILD_WORDS
from tests.e2e.slack_rig import Phone, Rig

REPORTERS = ("cfinch", "jellis", "rpatel", "tokafor", "hbrooks", "dwilde")
REPORTS_EACH = 2
FIRST_QUESTION = "What are you reporting?"


async def report(phone: Phone) -> None:
    """A pupil disclosure, tapped and typed from start to Send."""
    await phone.type("hi")
    for label in ("Pupil disclosure", "No", "The child is the victim"):
        await phone.tap(label)
    await phone.type("Mia Hart")
    await phone.tap("Skip")
    await phone.type(CHILD_WORDS)
    for label in ("No", "With me", "No", "No", "Send"):  # immediate risk, where now, illegal, self-generated imagery
        await phone.tap(label)


def key_of(message: dict[str, Any]) -> str | None:
    """The marker of one of our messages (its metadata key), if it carries one."""
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key")


def question_of(message: dict[str, Any]) -> str:
    """What a dialog message asks, as its sections say it (the same before and after it is answered)."""
    return json.dumps([b for b in message.get("blocks") or [] if b.get("type") == "section"], sort_keys=True)


def reports_in(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A reporter's DM, cut into one run of messages per report (each starts by asking what it is)."""
    runs: list[list[dict[str, Any]]] = []
    for message in messages:
        if FIRST_QUESTION in question_of(message) or not runs:
            runs.append([])
        runs[-1].append(message)
    return runs


async def all_sent(rig: Rig) -> bool:
    async with rig.app.sessions() as session:
        statuses = set(await session.scalars(select(AlertDelivery.status)))
    return statuses == {"sent"}


async def test_a_message_posted_but_unanswered_is_shown_once(rig: Rig) -> None:
    rig.fake.lose_every("chat.postMessage", 3)
    phones = [rig.phone(person) for person in REPORTERS]

    async def reports_of(phone: Phone) -> None:
        for _ in range(REPORTS_EACH):
            await report(phone)

    await asyncio.gather(*(reports_of(phone) for phone in phones))
    await rig.slack.idle()
    for _ in range(20):  # rounds by hand, each past the back-off of the one before
        if await all_sent(rig):
            break
        rig.clock.advance(16)
        await rig.slack.outbox.deliver()
    assert await all_sent(rig), "every alert and receipt reached Slack in the end"
    assert len(rig.fake.dropped) > 10, "answers were lost, on alerts, receipts and questions alike"
    assert rig.fake.to("conversations.history"), "a message in doubt was looked for before it was sent again"

    dsl = rig.phone("smorgan")
    for dm in {phone.dm for phone in [*phones, dsl]} | {call.args["channel"] for call in rig.fake.dropped}:
        shown = rig.fake.shown_in(dm)
        twice = {key: n for key, n in Counter(key_of(m) for m in shown if key_of(m)).items() if n > 1}
        assert not twice, f"shown more than once in {dm}: {twice}"
    alerts = [m for m in rig.fake.shown_in(dsl.dm) if "New report" in words_of(m)]
    assert len(alerts) == len(REPORTERS) * REPORTS_EACH, "one alert per report in the DSL's DM"

    for phone in phones:
        runs = reports_in([m for m in rig.fake.shown_in(phone.dm) if "Thank you" not in words_of(m)])
        assert len(runs) == REPORTS_EACH
        for run in runs:
            asked = Counter(question_of(m) for m in run)
            assert max(asked.values()) == 1, f"{phone.person_id} was asked the same question twice: {asked}"
        receipts = [m for m in rig.fake.shown_in(phone.dm) if "Thank you" in words_of(m)]
        assert len(receipts) == REPORTS_EACH, f"{phone.person_id} got {len(receipts)} receipts"


async def test_a_question_whose_answer_was_lost_is_found_in_the_dm_not_posted_again(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    rig.fake.drop_next("chat.postMessage", channel=teacher.dm)
    await teacher.type("hi")
    await rig.slack.idle()
    [asked] = rig.fake.to("chat.postMessage", channel=teacher.dm)
    assert asked in rig.fake.dropped and FIRST_QUESTION in question_of(asked.args)
    [looked] = rig.fake.to("conversations.history", channel=teacher.dm)
    assert looked.args["include_all_metadata"] in (True, "true", "1")
    assert key_of(asked.args) is not None, "marked, so that it could be found"
    await teacher.tap("Pupil disclosure")  # the report carries on from the question shown once
    assert "an adult who works at the school" in teacher.said()


async def test_a_call_that_shows_nothing_new_is_sent_again_after_a_dropped_connection(rig: Rig) -> None:
    """views.publish sets the App Home to one state however often it comes: it may go again."""
    user = rig.phone("smorgan").user
    rig.fake.drop_next("views.publish")
    answer = await rig.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home",
                              "event_ts": "1790000000.000001"})
    assert answer.status == 200
    published = await rig.fake.wait_for("views.publish", 2, user_id=user)
    assert published[0] in rig.fake.dropped and published[1].result["ok"]


async def test_a_question_slack_refused_is_known_not_shown_and_not_looked_for(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    rig.fake.fail_next("chat.postMessage", "msg_too_long", channel=teacher.dm)
    answer = await rig.event(teacher.message_event("hi"))
    assert answer.status == 200
    await rig.fake.wait_for("chat.postMessage", 1, channel=teacher.dm)
    await rig.slack.idle()
    assert len(rig.fake.to("chat.postMessage", channel=teacher.dm)) == 1
    assert rig.fake.to("conversations.history", channel=teacher.dm) == [], "Slack answered: nothing in doubt"
