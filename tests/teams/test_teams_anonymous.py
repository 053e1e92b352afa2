"""In Teams: a concern about a colleague sent without a name, acknowledged, asked about, answered, added to and
closed, and no trace of who sent it.

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
from storage.log import events_for
from storage.models import AlertDelivery, ConversationRef, Report
from tests.integration.anonymity import RELAY, digest_text, every_row, exported, report_exported, traces
from tests.teams.conftest import RigFactory
from tests.teams.rig import AAD, CONFIG_TEAMS_IDS
from tests.teams.test_teams_follow_up import send_button, shown_to

WHO = ("cfinch", "Chris Finch", AAD["cfinch"], CONFIG_TEAMS_IDS["cfinch"], "29:1cfinch-teams",
       "a:1personal-chat-cfinch")

QUESTION = "Which evenings were the messages sent, and to which year group? (made-up)"
ANSWER = "Tuesday and Thursday evenings, to Year 9 (made-up)."
MORE = "A pupil showed me another message this morning (made-up)."


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
    since_sent = len(rig.fake.sent)  # before it, the report's own menus list every member of staff
    await teacher.taps(card.action("Send without my name"))
    receipt = await rig.fake.wait_in(teacher.conversation["id"], "Thank you.")
    reference = receipt.text().split("Your report ")[1].split()[0]

    alert = await rig.fake.wait_in(head.conversation["id"], reference)
    assert "Sent without the reporter's name" in alert.text() and "Chris Finch" not in alert.text()
    rig.clock.advance(minutes=5)
    await rig.teams.idle()
    await head.taps(alert.action("Acknowledge"), reply_to=alert.id)
    await rig.fake.wait_in(teacher.conversation["id"], f"Your report {reference} was acknowledged", kind="send")

    # The headteacher asks the reporter in his card: the question reaches only the teacher's chat, by role.
    rig.clock.advance(minutes=5)
    sent = await head.taps(send_button(alert, "Ask the reporter"), ask_text=QUESTION)
    assert sent.text().startswith(f"Your question was sent to the person who reported {reference}.")
    await rig.teams.outbox.deliver()
    asked = await rig.fake.wait_in(teacher.conversation["id"], QUESTION)
    assert shown_to(rig, QUESTION) == {teacher.conversation["id"]}
    assert "The Headteacher asks:" in asked.text() and "Ellis" not in asked.text()
    # The DSL pressing the teacher's Answer is refused in one line, and logged as herself.
    dsl = rig.user("smorgan")
    await dsl.installs()
    forged = await dsl.taps(send_button(asked, "Answer"), answer_text="A forged answer (made-up)")
    assert forged.text().startswith("You can't answer that question")
    rig.clock.advance(minutes=5)
    thanked = await teacher.taps(send_button(asked, "Answer"), answer_text=ANSWER)
    assert thanked.text() == f"Thank you. Your answer about {reference} was sent to the people handling it."
    await rig.teams.outbox.deliver()
    back = await rig.fake.wait_in(head.conversation["id"], ANSWER)
    assert shown_to(rig, ANSWER) == {head.conversation["id"]} and "The reporter answers:" in back.text()
    # The same answer sent again (a replay) is refused, and logged under the report's handle.
    replayed = await teacher.taps(send_button(asked, "Answer"), answer_text="Again (made-up)")
    assert replayed.text().startswith("You can't answer that question")
    added = await teacher.taps(send_button(receipt, "I have something to add"), add_text=MORE)
    assert added.text().startswith(f"Thank you. What you added to {reference} was sent")
    await rig.teams.outbox.deliver()
    await rig.fake.wait_in(head.conversation["id"], MORE)
    assert shown_to(rig, MORE) == {head.conversation["id"]}

    assert (await lifecycle.close(rig.app, "jellis", reference, "handled_in_school", "Made-up reason")).changed
    await rig.teams.outbox.deliver()
    await rig.fake.wait_in(teacher.conversation["id"], f"Your report {reference} was closed", kind="send")
    await rig.teams.idle()

    # The relay works both ways and names neither side: the reporter only ever read the owner's role.
    to_teacher = [json.dumps(s.activity) for s in rig.fake.sent[since_sent:]
                  if s.conversation_id == teacher.conversation["id"]]
    assert any(QUESTION in shown for shown in to_teacher)
    assert traces(to_teacher, "jellis", "Jordan Ellis") == []
    to_others = [json.dumps(s.activity) for s in rig.fake.sent if s.conversation_id != teacher.conversation["id"]]
    assert any(reference in shown for shown in to_others)
    assert traces(to_others, *WHO) == []
    app = rig.app
    # Where each person's chat is (their Teams conversation) is kept for everyone who writes to the bot.
    # The report handed on whole (`safeguard report export`): its answer and addition, by "the reporter" alone.
    handed = await report_exported(app, "jellis", reference)
    assert ANSWER in handed and MORE in handed and traces([handed], *WHO) == []
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
        events = await events_for(session, reference)
    assert news == [("receipt", "teams", None), ("acknowledged", "teams", None), ("question", "teams", None),
                    ("closed", "teams", None)]
    assert [(e.kind, e.actor) for e in events if e.kind.startswith("reporter_")] == [
        ("reporter_asked", "jellis"), ("reporter_answered", report.reporter), ("reporter_added", report.reporter)]
    answering = {"action": "answer", "question": send_button(asked, "Answer")["data"]["question"]}
    assert [(e.actor, e.data) for e in events if e.kind == "refused"] == [("smorgan", answering),
                                                                          (report.reporter, answering)]
    # When their chat was learnt, not when they last wrote: nothing in it times the report.
    assert known.updated_at == learnt < report.created_at
