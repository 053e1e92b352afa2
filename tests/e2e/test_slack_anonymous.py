"""In Slack: a concern about a colleague sent without a name, from the teacher's phone, over signed HTTP.

The headteacher acknowledges with one tap and closes it; the teacher hears each step in their
DM. Then every table (raw, and decrypted with the school's key), the log export, the digest,
the server's log lines and every message anyone else was sent are read for the teacher's
person id, Slack id, DM and name.
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.cases import lifecycle
from bot.digest.weekly import IsoWeek
from storage.models import AlertDelivery, Report
from tests.e2e.conftest import RigFactory
from tests.e2e.fake_slack import dm_channel, words_of
from tests.e2e.slack_rig import SLACK_IDS, find_button
from tests.e2e.test_slack_cases import opened_home
from tests.integration.anonymity import RELAY, digest_text, every_row, exported, traces

TEACHER = SLACK_IDS["cfinch"]
WHO = ("cfinch", "Chris Finch", TEACHER, dm_channel(TEACHER))
# Where the bot writes to someone: these carry what each person is shown.
SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish", "views.open", "views.update",
         "response_url")


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
    assert "has been sent to the Headteacher" in sent.text()
    reference = sent.text().split("Your report ")[1].split()[0]

    alert = head.message_of(await head.wait_for_post(1))
    assert "Sent without the reporter's name" in words_of(alert) and "Chris Finch" not in words_of(alert)
    await rig.slack.idle()
    block, button = find_button(alert, "Acknowledge")
    assert (await rig.interact(head.action_payload(alert, block, button))).status == 200
    await teacher.wait_for_said(f"Your report {reference} was acknowledged by the Headteacher")
    assert (await lifecycle.close(rig.app, "jellis", reference, "handled_in_school", "Made-up reason")).changed
    await rig.slack.outbox.deliver()
    await teacher.wait_for_said(f"Your report {reference} was closed")
    await opened_home(rig, head)
    await rig.slack.idle()

    to_others = [json.dumps(call.args) for call in rig.fake.calls if call.method in SHOWN
                 and call.args.get("channel") != teacher.dm and call.args.get("user_id") != TEACHER
                 and call.args.get("user") != TEACHER]
    assert any(reference in shown for shown in to_others), "the checks read what the others were sent"
    assert traces(to_others, *WHO) == []
    app = rig.app
    assert traces(await every_row(app.sessions), *WHO) == []
    export = await exported(app, "jellis", reference, app.now()) + await exported(app, "smorgan", None, app.now())
    digest = await digest_text(app, IsoWeek.of(app.today()), ("dwilde", "hbrooks", "smorgan"))
    assert reference in export and traces([export, digest], *WHO) == []
    # The server's own lines; FakeSlack's access log (its /api/ calls, Slack's side) is not the server's.
    served = [f"{r.name}: {r.getMessage()}" for r in caplog.records
              if not (r.name == "aiohttp.access" and "/api/" in r.getMessage())]
    assert any("bot." in line for line in served), "the server's log lines are read"
    assert traces(served, *WHO) == []
    async with app.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        news = [(d.kind, d.channel, d.external_ref) for d in await session.scalars(
            select(AlertDelivery).where(AlertDelivery.person_id == report.reporter).order_by(AlertDelivery.id))]
    assert news == [("receipt", "slack", None), ("acknowledged", "slack", None), ("closed", "slack", None)]
