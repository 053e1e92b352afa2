"""At the console: what someone only told of a report may do, and what its reporter sees of it.

The headteacher is told of a pupil's disclosure that may be illegal (St Leonard's §8: he
contacts the police); the DSL owns it. His copy says so and offers no /ack, and his /ack or
/close is refused and leaves the DSL's clock running. The reporter follows the report with
/view (its state, never its words or notes) and hears when it is closed, never why.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.log import events_for, verify
from storage.reports import get_report
from tests.integration.console import Clock, Terminal, console_app, text

WORDS = "He said a man he met in a game sent him a made-up link"
ILLEGAL = ["Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip", WORDS, "No", "With me", "Yes", "No", "Send"]


async def test_the_headteacher_told_of_a_disclosure_may_view_and_note_it_but_not_acknowledge_or_close_it(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for line in ILLEGAL:
        await teacher.type(line)
    head = Terminal(app, "jellis")
    told = text(await head.open())
    assert "New report SG-2026-0001 for your information" in told
    assert ("Owned by the Designated safeguarding lead (DSL), who is asked to acknowledge it by 09:45 on Fri 20 Nov"
            in told)
    assert "You are told of it: you can view it and add a note." in told
    assert "/note SG-2026-0001 TEXT | /view SG-2026-0001" in told
    assert "/ack" not in told and "Acknowledge by" not in told

    assert (await head.type("/ack SG-2026-0001"))[0].startswith("! You can't acknowledge SG-2026-0001: it was not sent")
    assert (await head.type("/close SG-2026-0001 police Made-up reason"))[0].startswith("! You can't close SG-2026-0001")
    assert await head.type("/note SG-2026-0001 Called the made-up police line") == ["Note added to SG-2026-0001."]
    assert text(await head.type("/view SG-2026-0001")).startswith("Report SG-2026-0001: open")
    async with sessions() as session:
        report = await get_report(session, "SG-2026-0001")
        assert report is not None and report.acknowledged_at is None and report.next_escalation_at is not None, (
            "the DSL's clock still runs")

    dsl = Terminal(app, "smorgan")
    owner = text(await dsl.open())
    assert "for you to acknowledge" in owner and "/ack SG-2026-0001" in owner and "Owned by" not in owner
    clock.advance(minutes=2)
    await dsl.type("/ack SG-2026-0001")
    await dsl.type("/note SG-2026-0001 Spoke to the made-up carer")
    clock.advance(minutes=30)
    assert await dsl.type("/close SG-2026-0001 police Made-up reason: the police are involved") == [
        "SG-2026-0001 is closed: Reported to the police. The person who reported it has been told."]

    # The reporter: news of acknowledgement and of closing, and /view shows progress only.
    news = text([line for line in await teacher.type("/help") if line.startswith("Your report")])
    assert "Your report SG-2026-0001 was closed at 09:47 on Fri 20 Nov. Thank you for reporting it." in news
    progress = text(await teacher.type("/view SG-2026-0001"))
    assert progress == (
        "Your report SG-2026-0001: closed\n"
        "Sent to the Designated safeguarding lead (DSL)\n"
        "Reported at 09:15 on Fri 20 Nov\n"
        "Acknowledged by the Designated safeguarding lead (DSL) at 09:17 on Fri 20 Nov\n"
        "Closed at 09:47 on Fri 20 Nov")
    for private in ("made-up", "police", "Sam Morgan", "Jordan Ellis", "Note"):
        assert private.lower() not in (news + progress).lower(), private

    async with sessions() as session:
        events = await events_for(session, "SG-2026-0001")
        assert [(e.kind, e.actor, e.data) for e in events if e.kind in ("refused", "viewed")] == [
            ("refused", "jellis", {"action": "acknowledge"}), ("refused", "jellis", {"action": "close"}),
            ("viewed", "jellis", {}), ("viewed", "cfinch", {"scope": "progress"})]
        assert [e.data["notice"] for e in events if e.kind == "alert_delivered" and e.data["person"] == "cfinch"] == [
            "receipt", "acknowledged", "closed"]
        assert (await verify(session)).ok
