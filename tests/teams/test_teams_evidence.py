"""Screenshots in Teams: an image pasted in the 1:1 chat at the screenshots step, seen only by those the report reached."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from dialogs.advice import INDECENT_IMAGE
from storage.models import DraftEvidence, ReportEvidence
from tests.builders import screenshot
from tests.teams.fake_connector import Sent
from tests.teams.rig import Rig, User

WORDS = "A pupil posted a classmate's photo with a cruel caption (made-up)."


async def to_screenshots(teacher: User, *, imagery: str = "No") -> Sent:
    """A misuse report by a pupil, answered up to the screenshots step (or, with imagery Yes, to the summary)."""
    card = await teacher.says("hello")
    for label in ("Social media misuse", "A pupil"):
        card = await teacher.taps(card.action(label))
    card = await teacher.taps(card.action("Next"), answer="Ava Stone")  # whose misuse (no roster: typed)
    for label in ("Skip", "Instagram"):  # year group or class; platform
        card = await teacher.taps(card.action(label))
    card = await teacher.taps(card.action("Next"), answer=WORDS)
    card = await teacher.taps(card.action("No"))  # immediate risk
    card = await teacher.taps(card.action("No"))  # illegal
    replies = await teacher.answers(card.action(imagery))  # imagery a pupil took of themselves
    return replies[-1]


def text_of(replies: list[Sent]) -> str:
    return "\n".join(reply.text() for reply in replies)


async def test_a_screenshot_goes_with_the_report_and_back_only_into_the_1_1_chat_of_its_owner(rig: Rig) -> None:
    teacher, dsl, head, officer = (rig.user(p) for p in ("cfinch", "smorgan", "jellis", "tokafor"))
    for user in (dsl, head, officer):
        await user.installs()
    picture = screenshot("WEBP")
    asked = await to_screenshots(teacher)
    assert "Send any screenshots now" in asked.text()
    image = rig.fake.image(picture)
    replies = await teacher.send(teacher.activity(text="", attachments=[image]))
    assert "Screenshot 1 received." in text_of(replies)
    card = replies[-1]
    card = await teacher.taps(card.action("Done"))
    assert "Screenshots: 1" in card.text()
    await teacher.taps(card.action("Send"))

    alert = await rig.fake.wait_in(dsl.conversation["id"], "SG-2026-0001")
    assert "1 screenshot: press Screenshots" in alert.text()
    assert alert.images == [] and "screenshot" not in str(alert.activity.get("summary", "")).lower()
    shown = await dsl.answers(alert.action("Screenshots"))
    assert "sent with SG-2026-0001, for you only" in text_of(shown)
    images = [i for reply in shown for i in reply.images]
    assert [(i["contentType"], i["name"]) for i in images] == [("image/webp", "SG-2026-0001-screenshot-1.webp")]
    assert base64.b64decode(images[0]["contentUrl"].split(",", 1)[1]) == picture
    assert {reply.conversation_id for reply in shown} == {dsl.conversation["id"]}
    # What the chat list shows of it: the reference and what was asked, never the file.
    assert [r.activity.get("summary") for r in shown if r.images] == [
        "Safeguard: the screenshots you asked for (SG-2026-0001)"]

    # Only told of it, the headteacher reads its words but gets no Screenshots button, and a press
    # forged from the DSL's card is refused; the officer was not sent it at all.
    head_alert = await rig.fake.wait_in(head.conversation["id"], "SG-2026-0001")
    assert "1 screenshot: sent to whoever answers for it" in head_alert.text()
    assert "Screenshots" not in [a["title"] for a in head_alert.actions()]
    for user in (head, officer):
        refused = await user.answers(alert.action("Screenshots"))
        assert "You can't see the screenshots of SG-2026-0001: it was not sent to you" in text_of(refused)
        assert [i for reply in refused for i in reply.images] == []

    # The reporter's receipt carries no image.
    receipt = await rig.fake.wait_in(teacher.conversation["id"], "Thank you.")
    assert receipt.images == []
    async with rig.app.sessions() as session:
        assert (await session.scalars(select(ReportEvidence.data))).all() == [picture]


async def test_a_non_image_is_refused_and_an_address_off_the_service_host_is_never_fetched(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    await to_screenshots(teacher)
    replies = await teacher.send(teacher.activity(text="", attachments=[rig.fake.image(b"GIF89a-not-really")]))
    assert "PNG, JPEG, GIF or WebP pictures only" in text_of(replies)
    hits = rig.fake.attachment_hits()
    elsewhere = {"contentType": "image/png", "contentUrl": "https://example.org/made-up.png"}
    replies = await teacher.send(teacher.activity(text="", attachments=[elsewhere]))
    assert "could not be fetched" in text_of(replies)
    assert rig.fake.attachment_hits() == hits
    async with rig.app.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(DraftEvidence))).scalar_one() == 0


async def test_an_image_after_imagery_a_pupil_took_is_refused_unread_with_the_advice(rig: Rig) -> None:
    teacher = rig.user("cfinch")
    summary = await to_screenshots(teacher, imagery="Yes")
    assert "Please check your report:" in summary.text()
    replies = await teacher.send(teacher.activity(text="", attachments=[rig.fake.image(screenshot())]))
    said = text_of(replies)
    assert "has not opened or kept that file" in said and INDECENT_IMAGE in said
    assert rig.fake.attachment_hits() == 0  # never downloaded


async def test_an_image_needing_the_bots_token_is_not_served_without_it(rig: Rig) -> None:
    # Anonymous local mode has no token to give: where the service wants one, the image is not taken.
    rig.fake.attachment_token = "made-up-bot-token"
    teacher = rig.user("cfinch")
    await to_screenshots(teacher)
    image = rig.fake.image(screenshot())
    replies = await teacher.send(teacher.activity(text="", attachments=[image]))
    assert "could not be fetched" in text_of(replies)
    assert [a.hits for a in rig.fake.attachments.values()] == [[None]]
