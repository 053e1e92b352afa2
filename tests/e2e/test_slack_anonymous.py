"""In Slack: a concern about a colleague sent without a name, from the teacher's phone, over signed HTTP.

The headteacher acknowledges with one tap, asks the reporter a question from his alert, and
closes it; the teacher hears each step in their DM, answers with Answer and adds to the report
from its receipt; the DSL's forged answer and the teacher's replayed one are refused. Then
every table (raw, and decrypted with the school's key), the log export, the digest, the
server's log lines and every message anyone else was sent are read for the teacher's person
id, Slack id, DM and name.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SLACK
from bot.cases import follow_up, lifecycle
from bot.digest.weekly import IsoWeek
from dialogs import ReportDraft
from routing.vocabulary import Category, Subject
from storage.log import events_for
from storage.models import AlertDelivery, Report
from tests.e2e.conftest import RigFactory
from tests.e2e.fake_slack import dm_channel, words_of
from tests.e2e.slack_rig import SLACK_IDS, Phone, Rig, find_button
from tests.e2e.test_slack_cases import opened_home
from tests.e2e.test_slack_follow_up import modal_from, posted_with, send
from tests.integration.anonymity import RELAY, digest_text, every_row, exported, report_exported, traces

TEACHER = SLACK_IDS["cfinch"]
WHO = ("cfinch", "Chris Finch", TEACHER, dm_channel(TEACHER))
QUESTION = "Which evenings were the messages sent, and to which year group? (made-up)"
ANSWER = "Tuesday and Thursday evenings, to Year 9 (made-up)."
MORE = "A pupil showed me another message this morning (made-up)."
# Where the bot writes to someone: these carry what each person is shown.
SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish", "views.open", "views.update",
         "response_url")


async def send_modal(rig: Rig, phone: Phone, modal: dict[str, Any], words: str) -> str:
    """Send the modal with `words`; what its sender was told where they pressed its button."""
    return await send(rig, phone, modal, words, len(rig.fake.to("response_url", user=phone.user)) + 1)


def server_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The server's own log lines; FakeSlack's access log (its /api/ calls and response_urls, Slack's side) is not."""
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if not (r.name == "aiohttp.access" and any(path in r.getMessage() for path in ("/api/", "/response/")))]


def question_id(message: dict[str, Any]) -> int:
    """The question an Answer button answers (its value is the reference and the question's number)."""
    return int(find_button(message, "Answer")[1]["value"].rpartition("#")[2])


async def test_a_concern_sent_without_a_name_in_slack_leaves_no_trace_of_who_sent_it(
    make_rig: RigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for ours in ("bot", "storage"):
        caplog.set_level(logging.DEBUG, logger=ours)
    rig = await make_rig(relay=RELAY)
    teacher, head = rig.phone("cfinch"), rig.phone("jellis")
    await teacher.type("hi")
    await teacher.tap("Concern about a colleague")
    await teacher.choose("Tomi Okafor")
    await teacher.type("Made-up: messages pupils late at night from a personal account")
    await teacher.tap("No")  # harm threshold
    await teacher.tap("No")  # immediate risk
    summary = await teacher.tap("No")  # illegal
    assert "Send without my name" in summary.text()
    sent = await teacher.tap("Send without my name")
    since_sent = len(rig.fake.calls)  # before it, the report's own menus list every member of staff
    assert "has been sent to the Headteacher" in sent.text()
    reference = sent.text().split("Your report ")[1].split()[0]

    alert = head.message_of(await head.wait_for_post(1))
    assert "Sent without the reporter's name" in words_of(alert) and "Chris Finch" not in words_of(alert)
    await rig.slack.idle()
    block, button = find_button(alert, "Acknowledge")
    assert (await rig.interact(head.action_payload(alert, block, button))).status == 200
    await teacher.wait_for_said(f"Your report {reference} was acknowledged by the Headteacher")
    receipt = teacher.message_of(await teacher.wait_for_said("has been sent to"))

    # The headteacher asks the reporter from his alert: the question reaches only the teacher's DM, by role.
    said = await send_modal(rig, head, await modal_from(rig, head, alert, "Ask the reporter"), QUESTION)
    assert said.startswith(f"Your question was sent to the person who reported {reference}.")
    asked = await teacher.wait_for_said(QUESTION)
    assert [c.args["channel"] for c in posted_with(rig, QUESTION)] == [teacher.dm]
    assert "The Headteacher asks:" in asked.text() and "Ellis" not in asked.text()
    question = teacher.message_of(asked)
    # The DSL pressing the teacher's Answer is refused in one line, and logged as herself.
    dsl = rig.phone("smorgan")
    forged = await modal_from(rig, dsl, question, "Answer")
    assert "You can't answer that question" in await send_modal(rig, dsl, forged, "A forged answer (made-up)")
    answer = await modal_from(rig, teacher, question, "Answer")
    for_teacher = [rig.fake.to("views.open")[-1]]  # a modal goes to whoever pressed, by trigger_id alone
    assert await send_modal(rig, teacher, answer, ANSWER) == (
        f"Thank you. Your answer about {reference} was sent to the people handling it.")
    back = await head.wait_for_said(ANSWER)
    assert [c.args["channel"] for c in posted_with(rig, ANSWER)] == [head.dm]
    assert "The reporter answers:" in back.text()
    # The same answer sent again (a replay) is refused, and logged under the report's handle.
    assert "You can't answer that question" in await send_modal(rig, teacher, answer, "Again (made-up)")
    adding = await modal_from(rig, teacher, receipt, "I have something to add")
    for_teacher.append(rig.fake.to("views.open")[-1])
    added = await send_modal(rig, teacher, adding, MORE)
    assert added.startswith(f"Thank you. What you added to {reference} was sent")
    await head.wait_for_said(MORE)
    assert [c.args["channel"] for c in posted_with(rig, MORE)] == [head.dm]

    assert (await lifecycle.close(rig.app, "jellis", reference, "handled_in_school", "Made-up reason")).changed
    await rig.slack.outbox.deliver()
    await teacher.wait_for_said(f"Your report {reference} was closed")
    await opened_home(rig, head)
    await rig.slack.idle()

    # The relay works both ways and names neither side: the reporter only ever read the owner's role.
    to_teacher = [json.dumps(call.args) for call in rig.fake.calls[since_sent:] if call.method in SHOWN and (
        call in for_teacher or teacher.dm in (call.args.get("channel"), call.args.get("user_id")))]
    assert any(QUESTION in shown for shown in to_teacher)
    assert traces(to_teacher, "jellis", "Jordan Ellis") == []
    to_others = [json.dumps(call.args) for call in rig.fake.calls if call.method in SHOWN and call not in for_teacher
                 and call.args.get("channel") != teacher.dm and call.args.get("user_id") != TEACHER
                 and call.args.get("user") != TEACHER]
    assert any(reference in shown for shown in to_others), "the checks read what the others were sent"
    assert traces(to_others, *WHO) == []
    app = rig.app
    # The report handed on whole (`safeguard report export`): its answer and addition, by "the reporter" alone.
    handed = await report_exported(app, "jellis", reference)
    assert ANSWER in handed and MORE in handed and traces([handed], *WHO) == []
    assert traces(await every_row(app.sessions), *WHO) == []
    export = await exported(app, "jellis", reference, app.now()) + await exported(app, "smorgan", None, app.now())
    digest = await digest_text(app, IsoWeek.of(app.today()), ("dwilde", "hbrooks", "smorgan"))
    assert reference in export and traces([export, digest], *WHO) == []
    served = server_lines(caplog)
    assert any("bot." in line for line in served), "the server's log lines are read"
    assert traces(served, *WHO) == []
    async with app.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        news = [(d.kind, d.channel, d.external_ref) for d in await session.scalars(
            select(AlertDelivery).where(AlertDelivery.person_id == report.reporter).order_by(AlertDelivery.id))]
        events = await events_for(session, reference)
    assert news == [("receipt", "slack", None), ("acknowledged", "slack", None), ("question", "slack", None),
                    ("closed", "slack", None)]
    assert [(e.kind, e.actor) for e in events if e.kind.startswith("reporter_")] == [
        ("reporter_asked", "jellis"), ("reporter_answered", report.reporter), ("reporter_added", report.reporter)]
    answering = {"action": "answer", "question": question_id(question)}
    assert [(e.actor, e.data) for e in events if e.kind == "refused"] == [("smorgan", answering),
                                                                          (report.reporter, answering)]


async def test_a_question_that_never_reaches_an_anonymous_reporter_is_raised_to_the_dsl_naming_nobody(
    make_rig: RigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for ours in ("bot", "storage"):
        caplog.set_level(logging.DEBUG, logger=ours)
    rig = await make_rig(relay=RELAY)
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    draft = ReportDraft(Category.COLLEAGUE_CONCERN, Subject.STAFF, subject_person="tokafor",
                        details={"What happened": "Made-up: messages pupils late at night"})
    assert await lifecycle.submit(rig.app, reporter_id="cfinch", channel=SLACK, report=draft, anonymous=True) == []
    await rig.slack.outbox.deliver()
    receipt = await teacher.wait_for_said("has been sent to the Headteacher")
    reference = receipt.text().split("Your report ")[1].split()[0]
    # The teacher's Slack account is deactivated before the question goes: Slack says so, and says it again
    # once the DM is asked for afresh, so the question is given up on.
    for _ in range(2):
        rig.fake.fail_next("chat.postMessage", "account_inactive", channel=teacher.dm)
    assert (await follow_up.ask(rig.app, "jellis", reference, QUESTION)).changed
    await rig.slack.outbox.deliver()
    rig.clock.advance(60)
    await rig.slack.outbox.deliver()
    await rig.slack.outbox.deliver()
    told = await dsl.wait_for_said(f"Safeguard could not deliver a question for the person who reported it for report "
                                   f"{reference} to its reporter, who sent it without their name on Slack")
    await rig.slack.idle()
    to_others = [json.dumps(call.args) for call in rig.fake.calls if call.method in SHOWN
                 and teacher.dm not in (call.args.get("channel"), call.args.get("user_id"))]
    assert told.args["channel"] == dsl.dm and "its reporter, who sent it without their name" in told.text()
    assert not any(QUESTION in shown for shown in to_others), "the question's words went nowhere else"
    assert traces(to_others, *WHO) == [] and traces(await every_row(rig.app.sessions), *WHO) == []
    served = server_lines(caplog)
    assert any("never" in line or "not sent" in line for line in served), served
    assert traces(served, *WHO) == []
