"""Cyberbullying reported in the console: a pupil bullied by pupils, a teacher bullied by a parent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AlertDelivery, Recipient
from tests.integration.console import Clock, Terminal, console_app, text

GROUP_CHAT = "Three pupils keep posting edited photos of a Year 4 girl in their class group chat (made-up)."
PARENT_POST = "A parent called a named teacher a liar and worse on a community Facebook page (made-up)."


async def routed(sessions: async_sessionmaker[AsyncSession]) -> tuple[set[tuple[str, str]], set[str]]:
    """Who the report was routed to (person, owner/informed/escalation), and who was alerted."""
    async with sessions() as session:
        recipients = {(r.person_id, r.kind) for r in await session.scalars(select(Recipient))}
        alerted = set(await session.scalars(select(AlertDelivery.person_id).where(AlertDelivery.kind == "alert")))
    return recipients, alerted


async def test_a_pupil_bullied_by_pupils_goes_to_the_dsl_and_the_headteacher_is_told(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    printed = await teacher.type("Cyberbullying")
    assert printed[-1].startswith("Who is being bullied?\n  1. A pupil\n  2. A member of staff\n  3. The school")
    printed = await teacher.type("A pupil")
    assert printed[0].startswith("Tip: Do not reply or retaliate. Keep the evidence: take a screenshot, unless it is "
                                 "a nude or sexual image of a child: then do not screenshot, copy or forward it")
    assert printed[-1].startswith("Who is doing the bullying?\n  1. Pupils")
    for line in ["Pupils", "Ava Stone", "Skip", "I don't know", "WhatsApp", GROUP_CHAT, "No", "No", "No", "No screenshots"]:
        printed = await teacher.type(line)
    assert printed[-1].startswith("Please check your report:\nCyberbullying of a pupil, a member of staff or the "
                                  "school\nBy: Pupils\nWho is being bullied: A pupil\nChild: Ava Stone\n"
                                  "Pupil doing it: Not known\nPlatform: WhatsApp")
    printed = await teacher.type("Send")
    assert printed[0].startswith(
        "Thank you. Your report SG-2026-0001 has been sent to the Designated safeguarding lead (DSL).")

    dsl = Terminal(app, "smorgan")
    opened = text(await dsl.open())
    assert "New report SG-2026-0001 for you to acknowledge" in opened
    assert ("Cyberbullying of a pupil, a member of staff or the school\nWho is being bullied: A pupil\nBy: A pupil"
            in opened)
    head = Terminal(app, "jellis")
    assert "SG-2026-0001" in text(await head.open())
    recipients, alerted = await routed(sessions)
    assert recipients == {("smorgan", "owner"), ("jellis", "informed"), ("rpatel", "escalation"),
                          ("jellis", "escalation")}
    # A child's case: no governor hears of it.
    assert alerted == {"smorgan", "jellis"}
    assert (await dsl.type("/ack SG-2026-0001"))[0].startswith("You acknowledged SG-2026-0001")


async def test_a_teacher_bullied_by_a_parent_goes_to_the_headteacher(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await teacher.type("Cyberbullying")
    printed = await teacher.type("A member of staff")
    assert printed[0].startswith("Tip: Do not reply or retaliate.")
    assert "Professionals Online Safety Helpline (0344 381 4772" in printed[0]
    for line in ["A parent or carer", "I don't know", "Facebook", PARENT_POST, "No"]:
        await teacher.type(line)
    printed = await teacher.type("No")
    assert printed[-1].startswith("Send any screenshots now"), "no imagery question: no pupil is involved"
    printed = await teacher.type("No screenshots")
    assert printed[-1].startswith("Please check your report:")
    printed = await teacher.type("Send")
    assert printed[0].startswith("Thank you. Your report SG-2026-0001 has been sent to the Headteacher.")

    head = Terminal(app, "jellis")
    opened = text(await head.open())
    assert "New report SG-2026-0001 for you to acknowledge" in opened
    assert "Who is being bullied: A member of staff\nBy: A parent or carer" in opened
    viewed = text(await head.type("/view SG-2026-0001"))
    assert "Who is being bullied: A member of staff" in viewed and "Platform: Facebook" in viewed
    recipients, alerted = await routed(sessions)
    assert recipients == {("jellis", "owner"), ("smorgan", "escalation"), ("rpatel", "escalation")}
    assert alerted == {"jellis"}
