"""Screenshots on Slack: shared in the DM at the screenshots step, seen only by those the report reached, never indecent."""

from __future__ import annotations

import pytest

import hashlib

from sqlalchemy import func, select, text

from dialogs.advice import INDECENT_IMAGE
from dialogs.evidence import MAX_SCREENSHOT_BYTES
from storage.log import events_for
from storage.models import DraftEvidence, Report, ReportEvidence
from tests.builders import screenshot
from tests.e2e.fake_slack import TOKEN, Call, words_of
from tests.e2e.slack_rig import Phone, Rig, find_button

WORDS = "A Year 6 pupil posted a video of a classmate with a cruel caption."


async def to_imagery(teacher: Phone) -> None:
    """A misuse report by a pupil, answered up to "Is it imagery a pupil took of themselves?"."""
    await teacher.type("hi")
    for label in ("Social media misuse", "A pupil"):
        await teacher.tap(label)
    await teacher.type("Ava Stone")  # whose misuse (no roster: typed)
    await teacher.tap("Skip")  # year group or class
    await teacher.tap("Instagram")
    await teacher.type(WORDS)
    await teacher.tap("No")  # immediate risk
    await teacher.tap("No")  # illegal


async def to_screenshots(teacher: Phone) -> None:
    """A misuse report by a pupil, answered up to the screenshots step."""
    await to_imagery(teacher)
    asked = await teacher.tap("No")  # imagery a pupil took of themselves
    assert "Send any screenshots now" in asked.words()


def said(posts: list[Call]) -> str:
    return "\n".join(call.words() for call in posts)


async def alert_of(phone: Phone) -> dict[str, object]:
    return phone.message_of(await phone.wait_for_post(1))


async def press_screenshots(rig: Rig, phone: Phone, alert: dict[str, object]) -> Call:
    """Press Screenshots on an alert in `phone`'s DM; the ephemeral answer."""
    before = len(rig.fake.to("response_url", user=phone.user))
    block, button = find_button(alert, "Screenshots")  # type: ignore[arg-type]
    assert (await rig.interact(phone.action_payload(alert, block, button))).status == 200  # type: ignore[arg-type]
    return (await rig.fake.wait_for("response_url", before + 1, user=phone.user))[-1]


async def test_a_screenshot_goes_with_the_report_and_only_to_the_dm_of_its_owner(rig: Rig) -> None:
    teacher, dsl, head, officer = rig.phone("cfinch"), rig.phone("smorgan"), rig.phone("jellis"), rig.phone("tokafor")
    picture = screenshot()
    await to_screenshots(teacher)
    shared = rig.fake.share_file(picture)
    answered = said(await teacher.share(shared))
    assert "Screenshot 1 received." in answered and "1 of 3 screenshots received" in answered
    # Fetched once, from Slack, with the bot's own token.
    assert rig.fake.files[shared["id"]].hits == [f"Bearer {TOKEN}"]
    summary = await teacher.tap("Done")
    assert "Screenshots: 1" in summary.words()
    await teacher.tap("Send")
    await rig.slack.outbox.deliver()

    # The DSL owns it: the alert says so and offers Screenshots; its preview carries no file.
    alert_call = await dsl.wait_for_post(1)
    alert = dsl.message_of(alert_call)
    assert "1 screenshot: press Screenshots" in words_of(alert)
    assert "IMG_2041" not in alert_call.text() and "screenshot" not in str(alert_call.args.get("text", "")).lower()
    reference = words_of(alert).split("New report ")[1].split()[0]
    answer = await press_screenshots(rig, dsl, alert)
    assert f"sent with {reference}, for you only" in answer.words()
    uploads = rig.fake.files_in(dsl.dm)
    assert [(u.filename, u.data) for u in uploads] == [(f"{reference}-screenshot-1.png", picture)]

    # The headteacher is only told of it: his alert has the words but no Screenshots button, and
    # pressing one forged from the DSL's alert is refused (bot/cases/access.py), nothing uploaded.
    head_alert = await alert_of(head)
    assert "1 screenshot: sent to whoever answers for it" in words_of(head_alert)
    with pytest.raises(AssertionError, match="no 'Screenshots' button"):
        find_button(head_alert, "Screenshots")  # type: ignore[arg-type]
    refused = await press_screenshots(rig, head, alert)
    assert f"You can't see the screenshots of {reference}" in refused.words()
    assert rig.fake.files_in(head.dm) == []

    # The online safety officer was not sent it: pressing a forged button is refused, and nothing is uploaded.
    refused = await press_screenshots(rig, officer, alert)
    assert f"You can't see the screenshots of {reference}: it was not sent to you" in refused.words()
    assert rig.fake.files_in(officer.dm) == []

    # Nothing went to any channel, and the reporter's receipt and DM carry no file.
    assert {u.channel_id for u in rig.fake.uploads.values()} == {dsl.dm}
    receipt = await teacher.wait_for_said(f"Your report {reference} has been sent")
    assert "files" not in receipt.args and rig.fake.files_in(teacher.dm) == []

    async with rig.app.sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert report.screenshots == 1
        stored = (await session.scalars(select(ReportEvidence))).one()
        assert (stored.content_type, stored.size, stored.data) == ("image/png", len(picture), picture)
        raw = (await session.execute(text("SELECT data FROM report_evidence"))).scalar_one()
        assert raw.startswith("gAAAAA") and b"PNG" not in raw.encode()  # encrypted at rest
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0
        entries = await events_for(session, reference)
    attached = [e for e in entries if e.kind == "evidence_attached"]
    assert [e.data for e in attached] == [{"count": 1, "sha256": [hashlib.sha256(picture).hexdigest()]}]
    assert "IMG_2041" not in str([e.data for e in entries])
    assert [e.data for e in entries if e.kind == "evidence_shown"] == [{"count": 1}]
    refusals = [e.data for e in entries if e.kind == "refused"]
    assert refusals == [{"action": "screenshots"}, {"action": "screenshots"}]


async def test_a_file_that_is_not_a_picture_is_refused_and_the_step_still_waits(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await to_screenshots(teacher)
    answered = said(await teacher.share(rig.fake.share_file(b"%PDF-1.7 not a picture", "notes.png")))
    assert "PNG, JPEG, GIF or WebP pictures only" in answered
    assert "Send any screenshots now" in answered
    async with rig.app.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0


async def test_an_oversized_file_is_refused_without_reading_past_the_limit(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await to_screenshots(teacher)
    # Slack says it is too large: it is not fetched at all.
    declared = rig.fake.share_file(screenshot(), size=MAX_SCREENSHOT_BYTES + 1)
    assert "may be up to 5 MB" in said(await teacher.share(declared))
    assert rig.fake.files[declared["id"]].hits == []
    # Slack's size is wrong and the body never says its length: reading stops at the limit.
    chunk = b"\x89PNG" + bytes(64 * 1024 - 4)
    endless = rig.fake.share_file(chunk, size=1000, repeat=1600, chunked=True)  # 100 MB
    assert "may be up to 5 MB" in said(await teacher.share(endless))
    assert rig.fake.files[endless["id"]].sent < 40 * 1024 * 1024
    # A picture of the right size after both is taken.
    assert "Screenshot 1 received." in said(await teacher.share(rig.fake.share_file(screenshot("JPEG"))))


async def test_a_file_elsewhere_than_slack_is_never_fetched(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await to_screenshots(teacher)
    elsewhere = rig.fake.share_file(screenshot(), url="http://169.254.169.254/latest/meta-data")
    assert "could not be fetched" in said(await teacher.share(elsewhere))
    assert rig.fake.file_hits() == 0


async def test_a_file_sent_before_the_screenshots_step_gets_the_usual_refusal_and_is_not_fetched(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await teacher.type("hi")
    await teacher.tap("Social media misuse")
    answered = said(await teacher.share(rig.fake.share_file(screenshot())))
    assert "Safeguard can't take that file here" in answered
    assert rig.fake.file_hits() == 0


async def test_imagery_a_pupil_took_of_themselves_is_refused_unread_with_the_advice(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await to_imagery(teacher)
    before = len(teacher.posts())
    await teacher.tap("Yes")  # imagery a pupil took of themselves
    await teacher.wait_for_post(before + 2)  # the advice stands alone, then the summary
    advice = said(teacher.posts()[before:])
    assert INDECENT_IMAGE in advice
    assert "Send any screenshots now" not in advice and "Please check your report" in advice
    refused = said(await teacher.share(rig.fake.share_file(screenshot())))
    assert "has not opened or kept that file" in refused and INDECENT_IMAGE in refused
    assert rig.fake.file_hits() == 0  # never downloaded: not a byte of it was read


async def test_it_may_be_an_indecent_image_at_the_step_drops_what_was_sent_and_refuses_more(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await to_screenshots(teacher)
    await teacher.share(rig.fake.share_file(screenshot()))
    hits = rig.fake.file_hits()
    before = len(teacher.posts())
    await teacher.tap("It may be an indecent image of a child")
    await teacher.wait_for_post(before + 2)
    assert INDECENT_IMAGE in said(teacher.posts()[before:])
    async with rig.app.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0
    assert "has not opened or kept" in said(await teacher.share(rig.fake.share_file(screenshot())))
    assert rig.fake.file_hits() == hits


async def test_cancel_deletes_the_screenshots_of_the_draft(rig: Rig) -> None:
    teacher = rig.phone("cfinch")
    await to_screenshots(teacher)
    await teacher.share(rig.fake.share_file(screenshot()), rig.fake.share_file(screenshot("GIF")))
    async with rig.app.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 2
    await teacher.tap("Cancel")
    async with rig.app.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0
