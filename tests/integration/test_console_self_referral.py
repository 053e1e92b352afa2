"""Something about myself at the console: a teacher self-refers, the headteacher acknowledges; the head self-refers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.log import events_for
from storage.models import AlertDelivery, Recipient, Report
from tests.integration.console import Clock, Terminal, console_app, text

WHAT = "A Year 5 pupil messaged me on Instagram about homework and I replied before thinking (made-up)."
DID = "Replied once, then blocked the account and told my line manager (made-up)."
NOTE = "Spoke to Chris; advice on personal accounts given (made-up)."


async def routed(sessions: async_sessionmaker[AsyncSession]) -> tuple[set[tuple[str, str]], set[str]]:
    """Who the report was routed to (person, owner/informed/escalation), and who was alerted."""
    async with sessions() as session:
        recipients = {(r.person_id, r.kind) for r in await session.scalars(select(Recipient))}
        alerted = set(await session.scalars(select(AlertDelivery.person_id).where(AlertDelivery.kind == "alert")))
    return recipients, alerted


async def self_refer(person: Terminal, pupil: bool = False) -> list[str]:
    """Walk a self-referral to Send; what Send printed."""
    await person.open()
    printed = await person.type("Something about myself")
    assert printed[0].startswith("Tip: Thank you for telling the school")
    assert "never anonymously" in printed[0]
    assert printed[-1].startswith("Was a pupil involved?\n  1. Yes\n  2. No")
    for line in (["Yes", "Ava Stone", "Year 5"] if pupil else ["No"]) + ["Yesterday", "Instagram", WHAT, DID, "Skip"]:
        printed = await person.type(line)
    assert printed[-1].startswith("Could a child be at immediate risk of harm?")
    summary = await person.type("No")
    assert summary[-1].startswith("Please check your report:\nSomething about myself: a self-referral by a member of "
                                  "staff\nAbout: You (a self-referral, sent with your name)\n")
    assert f"What I did: {DID}" in summary[-1] and "Might it be illegal" not in text(summary)
    return await person.type("Send")


async def test_a_teacher_self_refers_the_headteacher_acknowledges_and_the_teacher_hears(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    sent = await self_refer(teacher, pupil=True)
    assert sent[0].startswith("Thank you. Your report SG-2026-0001 has been sent to the Headteacher.")
    async with sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert (report.category, report.subject, report.subject_person, report.reporter) == (
            "self_referral", "staff", "cfinch", "cfinch")

    head = Terminal(app, "jellis")
    opened = text(await head.open())
    assert "New report SG-2026-0001 for you to acknowledge" in opened
    assert "Something about myself: a self-referral by a member of staff" in opened
    assert "About: Chris Finch (about themself: a self-referral)" in opened and f"What happened: {WHAT}" in opened
    recipients, alerted = await routed(sessions)
    # St Leonard's §8: a concern about a member of staff is the headteacher's; the DSL and deputy are the ladder.
    assert recipients == {("jellis", "owner"), ("smorgan", "escalation"), ("rpatel", "escalation")}
    assert alerted == {"jellis"}
    assert (await head.type("/ack SG-2026-0001"))[0].startswith("You acknowledged SG-2026-0001")
    assert (await head.type(f"/note SG-2026-0001 {NOTE}"))[0] == "Note added to SG-2026-0001."
    listed = text(await head.type("/cases self-referral"))
    assert listed.startswith("Your cases (self-referral): 1\n  SG-2026-0001  Self-referral")

    # The teacher hears it was acknowledged, and follows its progress; never the note, nor another's view.
    again = Terminal(app, "cfinch")
    news = text(await again.open())
    assert "Your report SG-2026-0001 was acknowledged by the Headteacher" in news
    progress = text(await again.type("/view SG-2026-0001"))
    assert progress.startswith("Your report SG-2026-0001: acknowledged, still open\nSent to the Headteacher")
    assert NOTE not in progress and WHAT not in progress
    refused = text(await again.type(f"/note SG-2026-0001 {NOTE}"))
    assert refused.startswith("! You can't add a note to SG-2026-0001")
    # The DSL, only on the ladder, sees nothing of it.
    dsl = Terminal(app, "smorgan")
    assert text(await dsl.type("/view SG-2026-0001")).startswith("! You can't see SG-2026-0001")
    # The pupil it names puts it in the child's record for the DSL (KCSIE Annex C): which report, never whose.
    history = text(await dsl.type("/child Ava"))
    assert "SG-2026-0001" in history and "Self-referral  owner: Headteacher" in history
    assert "Chris" not in history and WHAT not in history


async def test_the_headteachers_self_referral_goes_to_the_chair_never_to_the_headteacher(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    head = Terminal(app, "jellis")
    sent = await self_refer(head)
    assert sent[0].startswith("Thank you. Your report SG-2026-0001 has been sent to the Chair of governors.")
    recipients, alerted = await routed(sessions)
    # St Leonard's §8: a concern about the headteacher goes to the chair of governors.
    assert recipients == {("hbrooks", "owner"), ("dwilde", "escalation")}
    assert alerted == {"hbrooks"}
    chair = Terminal(app, "hbrooks")
    assert "New report SG-2026-0001 for you to acknowledge" in text(await chair.open())
    assert (await chair.type("/ack SG-2026-0001"))[0].startswith("You acknowledged SG-2026-0001")
    assert "Your report SG-2026-0001 was acknowledged by the Chair of governors" in text(
        await Terminal(app, "jellis").open())


async def test_the_headteacher_asks_the_self_referrer_who_answers_and_adds_to_it(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher, head = Terminal(app, "cfinch"), Terminal(app, "jellis")
    await self_refer(teacher)
    reference = "SG-2026-0001"
    await head.open()
    assert (await head.type(f"/ack {reference}"))[0].startswith(f"You acknowledged {reference}")
    question = "Did you keep a copy of the messages? (made-up)"
    assert text(await head.type(f"/ask {reference} {question}")).startswith(
        f"Your question was sent to the person who reported {reference}.")

    # KCSIE Part four, section two: the headteacher handling a self-referral may need to ask its maker.
    asked = text(await teacher.type("/alerts"))
    assert f"A question about your report {reference}\nThe Headteacher asks: {question}" in asked
    answer = "Yes, screenshots on my school laptop (made-up)."
    assert text(await teacher.type(f"/answer {reference} {answer}")) == (
        f"Thank you. Your answer about {reference} was sent to the people handling it.")
    more = "The pupil messaged again this morning; I did not reply (made-up)."
    assert text(await teacher.type(f"/add {reference} {more}")).startswith(
        f"Thank you. What you added to {reference} was sent to the people handling it.")
    told = text(await head.type("/alerts"))
    assert f"The reporter answers: {answer}" in told and f"The reporter adds: {more}" in told
    history = text(await head.type(f"/view {reference}"))
    assert answer in history and more in history
    # The teacher still follows only its progress, and nobody else answers for them.
    assert text(await teacher.type(f"/view {reference}")).startswith(f"Your report {reference}: acknowledged")
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    assert text(await dsl.type(f"/add {reference} Made-up")).startswith(f"! You can't add to {reference}")
    async with sessions() as session:
        events = await events_for(session, reference)
    assert [(e.kind, e.actor) for e in events if e.kind.startswith("reporter_")] == [
        ("reporter_asked", "jellis"), ("reporter_answered", "cfinch"), ("reporter_added", "cfinch")]
    assert [(e.actor, e.data) for e in events if e.kind == "refused"] == [("smorgan", {"action": "add"})]
