"""Asking for a blocked site at the console: St Leonard's officer passes on, the headteacher decides, the officer records it."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest.weekly import parse_week, render, weekly_figures
from routing.loader import resolve_policy
from storage.log import verify
from storage.models import ApprovalRequest, Event
from tests.integration.console import SCHOOL, Clock, Terminal, console_app, text

URL = "https://www.example.org/rivers/year5-fieldwork"
CONTENT = "A charity's river-study pages with a video on water safety (made-up)."
REASONS = "Year 5 geography fieldwork needs the video next week (made-up)."
RISKS = "Video may show adverts; shown from the teacher's screen only (made-up)."


async def ask(teacher: Terminal) -> list[str]:
    """Walk the form to Send; what Send printed."""
    await teacher.open()
    first = await teacher.type("/unblock")
    assert "Blocked content access request: 4 questions" in first[-1] and "1/4. Full URL?" in first[-1]
    bad = await teacher.type("javascript:alert(1)")
    assert bad[0] == "! That is not a web address. Please give the full URL, starting http:// or https://."
    for answer in (URL, CONTENT, REASONS):
        await teacher.type(answer)
    empty = await teacher.type("   ")
    assert empty[0].startswith("! Please give the identified risks and control measures")
    summary = await teacher.type(RISKS)
    assert summary[-1].startswith("Blocked content access request: please check it.") and f"Full URL: {URL}" in summary[-1]
    return await teacher.type("Send")


async def test_st_leonards_officer_passes_on_headteacher_approves_officer_records(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    sent = await ask(teacher)
    assert sent[0].startswith("Sent as AR-2026-0001. It is with the Online safety officer (Tomi Okafor)")

    officer, head = Terminal(app, "tokafor"), Terminal(app, "jellis")
    told = text(await officer.open())
    assert "Blocked content access request AR-2026-0001" in told and URL in told and "Chris Finch" in told
    assert "/pass AR-2026-0001" in told
    # Nobody else sees it: not the DSL, and not the headteacher before it reaches them.
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    assert (await dsl.type("/request AR-2026-0001"))[0] == "! You cannot view AR-2026-0001."
    assert (await head.type("/approve AR-2026-0001 fine"))[0] == "! You cannot approve AR-2026-0001."
    assert (await officer.type("/approve AR-2026-0001 fine"))[0].startswith("! AR-2026-0001 is at a step where you pass")

    passed = await officer.type("/pass AR-2026-0001")
    assert passed[0] == "Passed on: AR-2026-0001 is with the Headteacher (Jordan Ellis)."
    at_head = text(await head.open())
    assert "Decide it: /approve AR-2026-0001 REASONS" in at_head and RISKS in at_head
    assert (await head.type("/approve AR-2026-0001"))[0].startswith("! Please give your reasons")
    approved = await head.type("/approve AR-2026-0001 Fieldwork need; teacher-led viewing only (made-up).")
    assert approved[0] == "Approved: AR-2026-0001. The requester is told, with your reasons."

    heard = text(await teacher.type("/requests"))
    assert "was approved by the Headteacher" in heard and "teacher-led viewing only" in heard
    asked = text(await officer.type("/requests"))
    assert "When the site was unblocked, type /unblocked AR-2026-0001" in asked
    done = await officer.type("/unblocked AR-2026-0001")
    assert done[0].startswith("Recorded: for AR-2026-0001, the site was unblocked at ")
    # Pressed again by the one who did it: where it is now, and no refusal in the log (that is for strangers).
    again = await officer.type("/unblocked AR-2026-0001")
    assert again[0].startswith("! Nothing changed for AR-2026-0001. Now: approved; the site was unblocked ")

    async with sessions() as session:
        kinds = list(await session.scalars(select(Event.kind).where(Event.report_ref == "AR-2026-0001")
                                           .order_by(Event.seq)))
        assert kinds == ["request_made", "refused", "refused", "request_passed_on", "request_approved",
                         "request_done"]
        logged = str([e.data for e in await session.scalars(select(Event))])
        assert URL not in logged and "made-up" not in logged  # digests, never words
        stored = (await session.execute(sql("SELECT answers, reasons FROM approval_requests"))).one()
        assert URL not in str(stored) and "made-up" not in str(stored)  # encrypted at rest
        assert (await verify(session)).ok


async def test_refused_by_the_officer_then_by_the_headteacher(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher, officer, head = Terminal(app, "cfinch"), Terminal(app, "tokafor"), Terminal(app, "jellis")
    await ask(teacher)
    await officer.open()
    assert (await officer.type("/refuse AR-2026-0001 The site hosts gambling adverts (made-up)."))[0].startswith("Refused")
    assert "was refused by the Online safety officer.\nReasons: The site hosts gambling" in text(await teacher.type("/requests"))
    assert (await officer.type("/pass AR-2026-0001"))[0] == "! Nothing changed for AR-2026-0001. Now: refused."

    await teacher.type("/unblock")
    for answer in (URL, CONTENT, REASONS, RISKS, "Send"):
        sent = await teacher.type(answer)
    assert sent[0].startswith("Sent as AR-2026-0002")
    await officer.type("/pass AR-2026-0002")
    await head.open()
    assert (await head.type("/refuse AR-2026-0002 Use the BBC clip instead (made-up)."))[0].startswith("Refused")
    assert "AR-2026-0002 was refused by the Headteacher" in text(await teacher.type("/requests"))
    async with sessions() as session:
        assert (await verify(session)).ok
    # The governors' weekly digest counts them, and says nothing else of them.
    digest = render(app, await weekly_figures(app, parse_week("2026-W47")))
    assert "Blocked-site requests: 2 made, 0 approved, 2 refused" in digest
    assert "AR-2026" not in digest and "example.org" not in digest


async def test_the_headteachers_own_request_goes_to_the_chair_and_reminders_come_once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    from bot.cases.requests import remind_due

    app = console_app(sessions, clock)
    head, officer, chair = Terminal(app, "jellis"), Terminal(app, "tokafor"), Terminal(app, "hbrooks")
    await ask(head)
    await officer.open()
    passed = await officer.type("/pass AR-2026-0001")
    # Nobody approves their own request: the chair of governors decides the headteacher's.
    assert passed[0] == "Passed on: AR-2026-0001 is with the Chair of governors (Helen Brooks)."
    clock.advance(days=3)
    assert await remind_due(app) == 1
    assert await remind_due(app) == 0  # the row is the truth: one reminder per period
    shown = text(await chair.open())
    assert "Reminder: still waiting for you." in shown
    assert "nobody approves their own request" in shown
    assert (await head.type("/approve AR-2026-0001 mine"))[0] == "! You cannot approve AR-2026-0001."
    async with sessions() as session:
        row = (await session.scalars(select(ApprovalRequest))).one()
        assert row.approvers == ["tokafor", "hbrooks"] and row.reminders == 1


async def test_bpet_and_perryfields_have_it_mersham_and_principal_slt_answer_in_one_line(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    for preset, officer_name in (("bpet", "Online safety officer"), ("perryfields", "E-safety officer")):
        school = replace(SCHOOL, policy=resolve_policy(preset))
        app = console_app(sessions, clock, school=school)
        sent = await ask(Terminal(app, "cfinch"))
        assert f"It is with the {officer_name} (Tomi Okafor)" in sent[0]
        officer, head = Terminal(app, "tokafor"), Terminal(app, "jellis")
        await officer.open()
        await officer.type(f"/pass {sent[0].split()[2].rstrip('.')}")
        await head.open()
        ref = sent[0].split()[2].rstrip(".")
        assert (await head.type(f"/approve {ref} ok (made-up)"))[0].startswith("Approved")
    for preset in ("mersham", "principal-slt"):
        school = replace(SCHOOL, policy=resolve_policy(preset))
        teacher = Terminal(console_app(sessions, clock, school=school), "cfinch")
        await teacher.open()
        answer = await teacher.type("/unblock")
        assert len(answer) == 1 and answer[0].startswith("! Blocked content access requests are not part of ")
