"""After Send: notes and actions in a modal, the log in a modal, alerts retried, drafts reminded, text escaped."""

from __future__ import annotations

from sqlalchemy import select

from bot.outbox.delivery import FIRST_RETRY
from routing.vocabulary import Category
from storage.log import events_for
from storage.models import AlertDelivery, Report, ReportNote
from tests.e2e.reports import submit
from tests.e2e.slack_rig import Rig, eventually, find_button, read_as_markup, shown_literally
from tests.e2e.conftest import RigFactory

FORGED = "He wrote <!channel> and <http://bad.example/x|click here> and &lt;!here&gt; &amp; more"


async def test_what_staff_type_cannot_ping_anyone_or_forge_a_link(rig: Rig) -> None:
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip"):
        await teacher.type(words)
    await teacher.type(FORGED)
    for words in ("no", "with_me", "no"):
        await teacher.type(words)
    summary = await teacher.type("no")
    # What they typed, in words, shown as plain_text: Slack reads no mention, link or formatting there.
    assert summary.args["blocks"][0]["text"]["type"] == "plain_text"
    typed = "He wrote @channel and click here (http://bad.example/x) and <!here> & more"
    assert typed in shown_literally(summary)
    # The notification text (the lock screen) carries none of it: only what is asked.
    assert summary.args["text"] == "Safeguard: please check your report before it is sent"
    await teacher.tap("Send")
    alert = dsl.message_of(await dsl.wait_for_post(1))
    block, button = find_button(alert, "View log")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    logged = (await rig.fake.wait_for("views.update"))[0]
    assert typed in shown_literally(logged)
    for call in rig.fake.calls:
        parsed = read_as_markup(call)
        for markup in ("<!channel>", "<!here>", "<http", "|click here>"):
            assert markup not in parsed, (call.method, parsed)
    async with rig.app.sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert report.details["The child's words"] == (
            "He wrote @channel and click here (http://bad.example/x) and <!here> & more")


async def test_a_note_is_typed_in_a_modal_and_an_empty_one_is_refused(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl = rig.phone("smorgan")
    alert = dsl.latest()
    block, button = find_button(alert, "Add note")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    opened = (await rig.fake.wait_for("views.open"))[0]
    modal = opened.args["view"]
    assert modal["type"] == "modal" and modal["title"]["text"] == "Add a note"
    view = {**modal, "id": opened.result["view"]["id"]}
    input_block = next(b for b in modal["blocks"] if b["type"] == "input")
    field = {input_block["block_id"]: {input_block["element"]["action_id"]: {"type": "plain_text_input", "value": "  "}}}
    empty = await rig.interact(dsl.view_submission(view, field))
    assert empty.status == 200
    assert empty.json()["response_action"] == "errors" and input_block["block_id"] in empty.json()["errors"]

    note = "Spoke to the child's class teacher (made-up). <!everyone>"
    field[input_block["block_id"]][input_block["element"]["action_id"]]["value"] = note
    saved = await rig.interact(dsl.view_submission(view, field))
    assert saved.status == 200 and saved.body == ""  # the modal closes
    done = await rig.fake.wait_for("response_url", user=dsl.user)
    assert f"Note added to {reference}" in done[0].words() and done[0].args["channel"] == dsl.dm
    async with rig.app.sessions() as session:
        assert [n.text for n in await session.scalars(select(ReportNote))] == [note]
        assert "note_added" in [e.kind for e in await events_for(session, reference)]


async def test_the_online_safety_officer_records_the_action_taken(rig: Rig) -> None:
    details = {"Date": "14 March 2026", "Full URL(s)": "https://video.example/watch?v=1",
               "Nature of inappropriate content": "A violent clip (made-up)."}
    reference = await submit(rig.app, category=Category.INAPPROPRIATE_CONTENT, details=details)
    await rig.slack.outbox.deliver()
    officer = rig.phone("tokafor")
    alert = officer.latest()
    block, button = find_button(alert, "Record action")
    assert (await rig.interact(officer.action_payload(alert, block, button))).status == 200
    opened = (await rig.fake.wait_for("views.open"))[0]
    assert opened.args["view"]["title"]["text"] == "Record action"
    values = {"sg_note_text": {"text": {"type": "plain_text_input", "value": "Site blocked on the school filter."}}}
    assert (await rig.interact(officer.view_submission({**opened.args["view"], "id": "V1"}, values))).status == 200
    done = await rig.fake.wait_for("response_url", user=officer.user)
    assert f"Action recorded on {reference}" in done[0].words()
    async with rig.app.sessions() as session:
        assert "action_recorded" in [e.kind for e in await events_for(session, reference)]


async def test_view_log_opens_at_once_then_shows_the_report(rig: Rig) -> None:
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    dsl, stranger = rig.phone("smorgan"), rig.phone("jellis")
    alert = dsl.latest()
    block, button = find_button(alert, "View log")
    assert (await rig.interact(dsl.action_payload(alert, block, button))).status == 200
    opened = (await rig.fake.wait_for("views.open"))[0]
    assert "Loading" in str(opened.args["view"])
    updated = (await rig.fake.wait_for("views.update"))[0]
    assert updated.args["view_id"] == opened.result["view"]["id"]
    assert f"Report {reference}" in str(updated.args["view"]) and "History: created" in str(updated.args["view"])

    # The headteacher is only on the ladder: not reached yet, so not entitled (DESIGN rule 5).
    assert (await rig.interact(stranger.action_payload(alert, block, button))).status == 200
    refused = (await rig.fake.wait_for("views.update", 2))[1]
    assert "You can't see" in str(refused.args["view"])
    async with rig.app.sessions() as session:
        kinds = [(e.kind, e.actor) for e in await events_for(session, reference)]
        assert ("viewed", "smorgan") in kinds and ("refused", "jellis") in kinds


async def test_an_alert_slack_refused_goes_on_the_next_round(make_rig: RigFactory) -> None:
    rig = await make_rig(outbox_seconds=0.05)
    dsl = rig.phone("smorgan")
    rig.fake.fail_next("chat.postMessage", "internal_error", channel=dsl.dm)
    reference = await submit(rig.app)  # queued; the outbox loop sends it
    await rig.fake.wait_for("chat.postMessage", 1, channel=dsl.dm)

    async def backing_off() -> bool:
        async with rig.app.sessions() as session:
            delivery = (await session.scalars(select(AlertDelivery).where(AlertDelivery.person_id == "smorgan"))).one()
            return delivery.status == "failed" and delivery.next_attempt_at is not None and delivery.next_attempt_at > rig.clock() + FIRST_RETRY / 2

    await eventually(backing_off, "the failed alert to wait out its back-off")
    await rig.slack.outbox.deliver()
    assert len(rig.fake.to("chat.postMessage", channel=dsl.dm)) == 1, "not again before its back-off ran out"
    rig.clock.advance(1)
    tries = await rig.fake.wait_for("chat.postMessage", 2, channel=dsl.dm)
    assert tries[0].result["ok"] is False and tries[1].result["ok"] is True

    async def marked_sent() -> bool:
        async with rig.app.sessions() as session:
            delivery = (await session.scalars(select(AlertDelivery).where(AlertDelivery.person_id == "smorgan"))).one()
            return delivery.status == "sent" and delivery.attempts == 2

    await eventually(marked_sent, "the alert to be marked sent after its second attempt")
    async with rig.app.sessions() as session:
        delivered = [e for e in await events_for(session, reference)
                     if e.kind == "alert_delivered" and e.data["person"] == "smorgan"]
        assert len(delivered) == 1
    assert len(rig.fake.to("chat.postMessage", channel=dsl.dm)) == 2  # sent, so not sent again


async def test_an_idle_draft_is_reminded_once(make_rig: RigFactory) -> None:
    rig = await make_rig(outbox_seconds=0.05)
    teacher = rig.phone("cfinch")
    await teacher.type("hi")
    rig.clock.advance(31)
    reminded = await teacher.wait_for_said("You have a report you haven't finished")
    carry_on = teacher.message_of(reminded)
    asked = await teacher.tap("Carry on", carry_on)
    assert "What are you reporting?" in asked.words()
    assert len([p for p in teacher.posts() if "haven't finished" in p.words()]) == 1


async def test_the_dsls_alert_goes_while_the_reporters_summary_is_still_being_marked_sent(rig: Rig) -> None:
    # Issue 24: the alert waited for the Send listener's edit of the summary (and, in a burst of
    # Sends, for fifty of them). Slack is slow to answer that edit here: the DSL's alert goes
    # anyway; the reporter's receipt waits, so they see their summary marked sent, then the receipt.
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", "She said he keeps messaging her.",
                  "no", "with_me", "no"):
        await teacher.type(words)
    summary = teacher.message_of(await teacher.type("no"))
    marked = rig.fake.hold_next("chat.update", channel=teacher.dm)
    block, button = find_button(summary, "Send")
    assert (await rig.interact(teacher.action_payload(summary, block, button))).status == 200
    alert = await dsl.wait_for_said("New report")
    assert not [c for c in teacher.posts() if "has been sent to" in c.text()], "the receipt waits for the edit"
    [edit] = rig.fake.to("chat.update", channel=teacher.dm)
    marked.set()
    receipt = await teacher.wait_for_said("has been sent to")
    assert rig.fake.calls.index(edit) < rig.fake.calls.index(receipt) and alert.at < receipt.at
    shown = rig.fake.messages[(teacher.dm, summary["ts"])]
    assert not [b for b in shown["blocks"] if b["type"] == "actions"], "the summary shows it was sent, without buttons"
    await rig.slack.idle()
