"""In Teams: a concern about a colleague sent without a name, acknowledged and closed, and no trace of who sent it.

The teacher's chat with the bot is known to Safeguard (conversation_refs: where each person is
reached, whoever they are), but nothing ties it to the report: that row is read apart.
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.cases import lifecycle
from bot.digest.weekly import IsoWeek
from storage.models import AlertDelivery, ConversationRef, Report
from tests.integration.anonymity import RELAY, digest_text, every_row, exported, traces
from tests.teams.conftest import RigFactory
from tests.teams.rig import AAD, CONFIG_TEAMS_IDS

WHO = ("cfinch", "Chris Finch", AAD["cfinch"], CONFIG_TEAMS_IDS["cfinch"], "29:1cfinch-teams",
       "a:1personal-chat-cfinch")


async def test_a_concern_sent_without_a_name_in_teams_leaves_no_trace_of_who_sent_it(
    make_rig: RigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for ours in ("bot", "storage"):
        caplog.set_level(logging.DEBUG, logger=ours)
    before = await make_rig(relay=RELAY)
    earlier = before.user("cfinch")
    for said in ("hello", "cancel"):  # where the teacher's chat is, learnt long before
        await earlier.send(earlier.activity(text=said))
    learnt = before.clock()
    rig = await make_rig(relay=RELAY)  # the server restarted: it remembers nothing of the chat but the database
    rig.clock.advance(minutes=40)
    teacher, head = rig.user("cfinch"), rig.user("jellis")
    await head.installs()
    await teacher.says("hello")
    await teacher.says("Concern about a colleague")
    await teacher.says("Tomi Okafor")
    card = await teacher.says("Made-up: messages pupils late at night from a personal account")
    while "Please check your report" not in card.text():
        card = (await teacher.answers(card.action("No")))[-1]
    rig.clock.advance(seconds=20)
    await teacher.taps(card.action("Send without my name"))
    receipt = await rig.fake.wait_in(teacher.conversation["id"], "Thank you.")
    reference = receipt.text().split("Your report ")[1].split()[0]

    alert = await rig.fake.wait_in(head.conversation["id"], reference)
    assert "Sent without the reporter's name" in alert.text() and "Chris Finch" not in alert.text()
    rig.clock.advance(minutes=5)
    await rig.teams.idle()
    await head.taps(alert.action("Acknowledge"), reply_to=alert.id)
    await rig.fake.wait_in(teacher.conversation["id"], f"Your report {reference} was acknowledged", kind="send")
    assert (await lifecycle.close(rig.app, "jellis", reference, "handled_in_school", "Made-up reason")).changed
    await rig.teams.outbox.deliver()
    await rig.fake.wait_in(teacher.conversation["id"], f"Your report {reference} was closed", kind="send")
    await rig.teams.idle()

    to_others = [json.dumps(s.activity) for s in rig.fake.sent if s.conversation_id != teacher.conversation["id"]]
    assert any(reference in shown for shown in to_others)
    assert traces(to_others, *WHO) == []
    app = rig.app
    # Where each person's chat is (their Teams conversation) is kept for everyone who writes to the bot.
    rows = [row for row in await every_row(app.sessions) if not row.startswith("conversation_refs")]
    assert traces(rows, *WHO) == []
    export = await exported(app, "jellis", reference, app.now()) + await exported(app, "smorgan", None, app.now())
    digest = await digest_text(app, IsoWeek.of(app.today()), ("dwilde", "hbrooks", "smorgan"))
    assert reference in export and traces([export, digest], *WHO) == []
    served = [f"{r.name}: {r.getMessage()}" for r in caplog.records
              if not (r.name == "aiohttp.access" and "/v3/" in r.getMessage())]  # the fake connector's side
    assert traces(served, *WHO) == []
    async with app.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        news = [(d.kind, d.channel, d.external_ref) for d in await session.scalars(
            select(AlertDelivery).where(AlertDelivery.person_id == report.reporter).order_by(AlertDelivery.id))]
        known = (await session.scalars(select(ConversationRef).where(ConversationRef.person_id == "cfinch"))).one()
    assert news == [("receipt", "teams", None), ("acknowledged", "teams", None), ("closed", "teams", None)]
    # When their chat was learnt, not when they last wrote: nothing in it times the report.
    assert known.updated_at == learnt < report.created_at
