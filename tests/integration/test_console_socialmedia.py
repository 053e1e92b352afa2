"""Asking to set up a school social media site at the console (/socialmedia, SM- references).

St Leonard's appendix C: the communications officer approves the aims, content and brand use,
then the headteacher gives final approval; BPET §7.0: the Head of Marketing and Communications,
then the headteacher; principal-slt: the principal (an SLT member for the principal's own).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, App
from bot.cases.requests import remind_due
from bot.digest.weekly import parse_week, render, weekly_figures
from bot.examples import EXAMPLE_TRUST
from routing.loader import resolve_policy
from routing.school import School
from routing.trust import load_deployment
from storage.log import verify
from storage.models import Event
from tests.integration.console import SCHOOL, Clock, Terminal, console_app, text

AIMS = "Share Year 4 river project photos with families (made-up)."
SECURITY = "Private account; followers vetted by the DSL (made-up)."


async def propose(person: Terminal, *, pupils: bool = True) -> list[str]:
    """Walk the form to Send, ticking pupils among the contributors or not; what Send printed."""
    await person.open()
    first = await person.type("/socialmedia")
    assert "Social media site creation approval: 13 questions (up to 20, as your answers need)" in first[-1]
    assert "1/13. Department?" in first[-1]
    for answer in ("Geography (made-up)", "Ms Byrne (made-up)", "Class news (made-up)", AIMS, "Photos (made-up)"):
        await person.type(answer)
    # The audience: each press ticks or unticks one option, and the question is asked again showing them.
    ticked = text(await person.type("1"))
    assert "6/14. Proposed audience of the site?" in ticked  # the ages are asked now and "1. [x] Pupils of the school" in ticked
    assert "  8. Done" in ticked and "  9. Back" in ticked
    await person.type("Members of the public")
    unticked = text(await person.type("1"))
    assert "1. [ ] Pupils of the school" in unticked and "6. [x] Members of the public" in unticked
    contributors = text(await person.type("Done"))
    assert "Proposed contributors to the site?" in contributors  # no ages: pupils are no longer ticked
    assert (await person.type("Done"))[0] == "! Please tick at least one option, then press Done."
    assert (await person.type("1,9"))[0] == "! '9' is not one of the options: type their numbers, like 1,3."
    after = text(await person.type("1,2" if pupils else "school staff, 3"))
    if pupils:
        assert "Contributors: the ages of the school's pupils?" in after
        await person.type("7 to 9")
    # At least two administrators, two different people.
    assert (await person.type("Ava Byrne"))[0].startswith("! Please name at least 2 different people")
    assert (await person.type("Ava Byrne, ava  byrne"))[0].startswith("! Please name at least 2 different people")
    for answer in ("Ava Byrne, Sam Lee", "Ms Byrne, class teacher (made-up)", "The school's own account"):
        await person.type(answer)
    assert (await person.type("next week"))[0] == "! Please type the date as dd/mm/yyyy, for example 11/01/2027."
    await person.type("11/01/2027")
    asked = text(await person.type("Class newsletter (made-up)"))
    # Parents' consent is asked only when pupils contribute (appendix C).
    assert ("How you will inform the parents" in asked) is pupils
    if pupils:
        asked = text(await person.type("Consent slips home (made-up)"))
    summary = text(await person.type(SECURITY))
    assert summary.startswith("Social media site creation approval: please check it.")
    assert "Proposed audience of the site: Members of the public" in summary
    assert "Names of the site's administrators: Ava Byrne; Sam Lee" in summary
    assert "Proposed date of going live: 11 January 2027" in summary
    assert ("Proposed contributors to the site: Pupils of the school; School staff" in summary) is pupils
    assert ("Consent slips home" in summary) is pupils
    return await person.type("Send")


async def test_st_leonards_the_communications_officer_approves_its_part_then_the_headteacher(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    sent = await propose(teacher)
    assert sent[0].startswith("Sent as SM-2026-0001. It is with the Communications officer (Lena Nwosu)")

    officer, head, dsl = Terminal(app, "lnwosu"), Terminal(app, "jellis"), Terminal(app, "smorgan")
    told = text(await officer.open())
    assert "Social media site creation approval SM-2026-0001" in told and AIMS in told and "Chris Finch" in told
    assert "Do you approve the aims, content and brand use? /approve SM-2026-0001 REASONS" in told
    await dsl.open()
    assert (await dsl.type("/request SM-2026-0001"))[0] == "! You cannot view SM-2026-0001."
    assert (await dsl.type("/refuse SM-2026-0001 no"))[0] == "! You cannot refuse SM-2026-0001."
    assert (await head.type("/approve SM-2026-0001 fine"))[0] == "! You cannot approve SM-2026-0001."
    assert (await officer.type("/pass SM-2026-0001"))[0] == \
        "! SM-2026-0001 is at a step where you approve the aims, content and brand use (passing it on) or refuse it."

    endorsed = await officer.type("/approve SM-2026-0001 Clear aims; the logo as the brand guide has it (made-up).")
    assert endorsed[0] == ("Approved the aims, content and brand use: SM-2026-0001 is now with the Headteacher "
                           "(Jordan Ellis) for final approval.")
    heard = text(await teacher.type("/requests"))
    assert "SM-2026-0001: the Communications officer approved the aims, content and brand use; now with the " \
           "Headteacher for final approval.\nReasons: Clear aims" in heard
    at_head = text(await head.open())
    assert "Decide it: /approve SM-2026-0001 REASONS" in at_head and SECURITY in at_head
    approved = await head.type("/approve SM-2026-0001 A strong reason (made-up).")
    assert approved[0] == "Approved: SM-2026-0001. The requester is told, with your reasons."
    heard = text(await teacher.type("/request SM-2026-0001"))
    assert "was approved by the Headteacher.\nReasons: A strong reason" in heard and "Now: approved" in heard

    async with sessions() as session:
        kinds = list(await session.scalars(select(Event.kind).where(Event.report_ref == "SM-2026-0001")
                                           .order_by(Event.seq)))
        assert kinds == ["request_made", "refused", "refused", "refused", "request_passed_on", "request_approved"]
        logged = str([e.data for e in await session.scalars(select(Event))])
        assert "made-up" not in logged and "Ava Byrne" not in logged  # digests, never words
        stored = (await session.execute(sql("SELECT answers, reasons FROM approval_requests"))).one()
        assert "Ava Byrne" not in str(stored) and "made-up" not in str(stored)  # encrypted at rest
        assert (await verify(session)).ok


async def test_refused_at_the_first_step_and_the_officer_s_own_goes_to_the_dsl(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher, officer, head = Terminal(app, "cfinch"), Terminal(app, "lnwosu"), Terminal(app, "jellis")
    await propose(teacher, pupils=False)
    await officer.open()
    refused = await officer.type("/refuse SM-2026-0001 The public audience is too wide (made-up).")
    assert refused[0] == "Refused: SM-2026-0001. The requester is told, with your reasons."
    heard = text(await teacher.type("/requests"))
    assert "SM-2026-0001 was refused by the Communications officer.\nReasons: The public audience" in heard
    assert (await head.type("/approve SM-2026-0001 ok"))[0] == "! You cannot approve SM-2026-0001."

    # The officer's own proposal: the DSL reads it in their place (§2), and the officer cannot approve it.
    sent = await propose(officer)
    assert sent[0].startswith("Sent as SM-2026-0002. It is with the Designated safeguarding lead (DSL) (Sam Morgan)")
    assert (await officer.type("/approve SM-2026-0002 mine"))[0] == "! You cannot approve SM-2026-0002."
    dsl = Terminal(app, "smorgan")
    assert "because the requester is the Communications officer" in text(await dsl.open())
    assert (await dsl.type("/approve SM-2026-0002 ok (made-up)"))[0].startswith("Approved the aims")
    assert (await officer.type("/approve SM-2026-0002 mine"))[0] == "! You cannot approve SM-2026-0002."
    await head.open()
    assert (await head.type("/refuse SM-2026-0002 Not this term (made-up)."))[0].startswith("Refused")
    # The digest counts them apart from blocked-site requests, and says nothing else of them.
    async with sessions() as session:
        assert (await verify(session)).ok
    digest = render(app, await weekly_figures(app, parse_week("2026-W47")))
    assert "Social media site requests: 2 made, 0 approved, 2 refused" in digest
    assert "Blocked-site requests" not in digest  # none was sent
    assert "SM-2026" not in digest and "made-up" not in digest


def principal_school() -> School:
    """The example school under the principal-slt preset, with a member of the SLT."""
    people = tuple(replace(p, roles=("slt",)) if p.id == "lnwosu" else p for p in SCHOOL.people)
    return replace(SCHOOL, policy=resolve_policy("principal-slt"), people=people)


async def test_principal_slt_the_principal_decides_and_an_slt_member_decides_the_principal_s(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock, school=principal_school())
    teacher, principal, slt = Terminal(app, "cfinch"), Terminal(app, "jellis"), Terminal(app, "lnwosu")
    sent = await propose(teacher)
    assert sent[0].startswith("Sent as SM-2026-0001. It is with the Principal (Jordan Ellis)")
    assert "Decide it: /approve SM-2026-0001 REASONS" in text(await principal.open())
    assert (await slt.type("/request SM-2026-0001"))[0] == "! You cannot view SM-2026-0001."
    assert (await principal.type("/approve SM-2026-0001 Good plan (made-up)."))[0].startswith("Approved: SM-2026-0001")
    assert "was approved by the Principal.\nReasons: Good plan" in text(await teacher.type("/requests"))

    sent = await propose(principal, pupils=False)
    assert sent[0].startswith("Sent as SM-2026-0002. It is with the Member of the senior leadership team (SLT)")
    assert (await principal.type("/approve SM-2026-0002 mine"))[0] == "! You cannot approve SM-2026-0002."
    clock.advance(days=3)  # not acted on in time: its own clock reminds the SLT member, once per period
    assert await remind_due(app) == 1 and await remind_due(app) == 0
    shown = text(await slt.open())
    assert "Reminder: still waiting for you." in shown and "because the requester is the Principal" in shown
    assert (await slt.type("/refuse SM-2026-0002 Use the school's account (made-up)."))[0].startswith("Refused")
    assert "was refused by the Member of the senior leadership team (SLT)" in text(await principal.type("/requests"))
    async with sessions() as session:
        assert (await verify(session)).ok


async def test_bpet_in_a_trust_goes_to_the_trust_s_head_of_marketing_then_the_headteacher(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    trust = load_deployment(EXAMPLE_TRUST)
    app = App(trust.schools[0], sessions, channels=(CONSOLE,), clock=clock, deployment=trust)
    teacher = Terminal(app.for_person("gmarsh"), "gmarsh")
    sent = await propose(teacher)
    assert sent[0].startswith("Sent as SM-BPA-2026-0001. It is with the Head of Marketing and Communications "
                              "(Jamie Osei)")
    marketing, head = Terminal(app.for_person("josei"), "josei"), Terminal(app.for_person("nkaur"), "nkaur")
    assert "Do you approve the purpose and content?" in text(await marketing.open())
    oakfield_dsl = Terminal(app.for_person("smorgan"), "smorgan")
    assert (await oakfield_dsl.type("/request SM-BPA-2026-0001"))[0] == "! You cannot view SM-BPA-2026-0001."
    assert (await marketing.type("/approve SM-BPA-2026-0001 Fits the trust's voice (made-up)."))[0] == (
        "Approved the purpose and content: SM-BPA-2026-0001 is now with the Headteacher (Nadia Kaur) for final approval.")
    await head.open()
    assert (await head.type("/approve SM-BPA-2026-0001 Yes (made-up)."))[0].startswith("Approved: SM-BPA-2026-0001")
    assert "was approved by the Headteacher" in text(await teacher.type("/requests"))
    async with sessions() as session:
        chains = set(await session.scalars(select(Event.chain).where(Event.report_ref == "SM-BPA-2026-0001")))
        assert chains == {"bpa"}  # filed in the school's own chain of the log
        assert (await verify(session)).ok


async def test_mersham_and_perryfields_answer_in_one_line(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    for preset in ("mersham", "perryfields"):
        school = replace(SCHOOL, policy=resolve_policy(preset))
        teacher = Terminal(console_app(sessions, clock, school=school), "cfinch")
        await teacher.open()
        answer = await teacher.type("/socialmedia")
        assert len(answer) == 1 and answer[0].startswith("! Social media site creation approvals are not part of ")
