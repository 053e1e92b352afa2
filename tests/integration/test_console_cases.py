"""At the console: a role holder's case list with its filters, and reassigning and reopening a report.

Reports are made as a teacher makes them, line by line; the DSL, the headteacher and the deputy
work them with the commands /help lists. Nothing of ours is replaced.
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest.weekly import parse_week, weekly_figures
from storage.log import events_for, verify
from storage.models import AlertDelivery, Event, Recipient
from storage.reports import get_report
from tests.integration.console import Clock, Terminal, console_app, text

WORDS = "He said a man he met in a game sent him a made-up link"
# Possibly illegal: the DSL owns it, and the headteacher is told (St Leonard's §8).
ILLEGAL_DISCLOSURE = ["Pupil disclosure", "No", "The child is the victim", "Leo Marsh", "Skip", WORDS, "No", "In class",
                      "Yes", "No", "Send"]
PARENT_POST = "A parent called a named teacher a liar on a community Facebook page (made-up)."
# A teacher bullied by a parent: the headteacher's alone.
BULLIED_TEACHER = ["Cyberbullying", "A member of staff", "A parent or carer", "I don't know", "Facebook", PARENT_POST,
                   "No", "No", "No screenshots", "Send"]


async def report(teacher: Terminal, lines: list[str]) -> None:
    for line in lines:
        await teacher.type(line)


async def test_the_case_list_shows_what_each_reader_may_see_open_first_with_filters(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report(teacher, ILLEGAL_DISCLOSURE)  # SG-2026-0001, the DSL's; the headteacher told
    clock.advance(minutes=5)
    await report(teacher, BULLIED_TEACHER)  # SG-2026-0002, the headteacher's alone

    head = Terminal(app, "jellis")
    await head.open()
    listed = text(await head.type("/cases"))
    assert listed == (
        "Your cases: 2\n"
        "  SG-2026-0001  Pupil disclosure\n"
        "    20 Nov 2026 · owner: Designated safeguarding lead (DSL) · Not yet acknowledged, due by 09:45 on Fri 20 Nov\n"
        "    You can view, add a note\n"
        "  SG-2026-0002  Cyberbullying\n"
        "    20 Nov 2026 · owner: Headteacher · Not yet acknowledged, due by 10:20 on Fri 20 Nov\n"
        "    You can acknowledge, view, add a note, close, reassign")
    # /alerts says the same: no "acknowledge by" to someone only told of a report.
    alerts = text(await head.type("/alerts"))
    assert alerts.startswith("Open reports for you (2):\n  SG-2026-0001  Pupil disclosure\n")
    assert "acknowledge by" not in alerts.lower().replace("you can acknowledge", "")

    dsl = Terminal(app, "smorgan")
    await dsl.open()
    # The DSL sees what was sent to her: the headteacher's own case did not reach her.
    assert "SG-2026-0002" not in text(await dsl.type("/cases"))
    clock.advance(minutes=2)
    await dsl.type("/ack SG-2026-0001")
    clock.advance(minutes=30)
    await dsl.type("/close SG-2026-0001 police Made-up reason: the police are involved")

    listed = text(await head.type("/cases"))
    assert listed.index("SG-2026-0002") < listed.index("SG-2026-0001"), "open first, then closed"
    assert "Closed at 09:52 on Fri 20 Nov\n    You can view, add a note" in listed
    assert text(await head.type("/cases closed")).startswith("Your cases (closed): 1\n  SG-2026-0001")
    assert text(await head.type("/cases open")).startswith("Your cases (open): 1\n  SG-2026-0002")
    assert text(await head.type("/cases cyberbullying")).startswith("Your cases (cyberbullying): 1\n  SG-2026-0002")
    assert text(await head.type("/cases pupil disclosure closed")).startswith(
        "Your cases (pupil disclosure, closed): 1\n  SG-2026-0001")
    assert await head.type("/cases since 2026-11-21") == ["No cases for you (since 21 Nov 2026)."]
    assert text(await head.type("/cases this week")).startswith("Your cases (since 16 Nov 2026): 2")
    assert text(await head.type("/cases last 30 days until 19/11/2026")) == (
        "No cases for you (since 21 Oct 2026 until 19 Nov 2026).")
    assert await head.type("/cases acknowledged") == ["No cases for you (acknowledged, still open)."]
    assert await head.type("/cases sideways") == [
        "! 'sideways' is not a filter Safeguard knows. Filters: open, unacknowledged, acknowledged, closed; a "
        "category (misuse, friend_request, inappropriate_content, colleague_concern, pupil_disclosure, "
        "cyberbullying, self_referral); since DATE, until DATE (like 2026-11-01), today, this week, last N days; child NAME (part "
        "of a child's name, last)."]
    assert await head.type("/cases since yesterday") == ["! After 'since' give a date, like 2026-11-01 or 01/11/2026."]

    # Someone with no role, and nothing sent to them, has no cases; not even the one they reported.
    assert (await teacher.type("/cases"))[0] == "No cases for you."


# Two children, three reports: Leo's illegal disclosure (the DSL's, the headteacher told), Ava's
# disclosure (the DSL's alone), and Ava's misuse of social media (the DSL's, the headteacher told).
AVA_DISCLOSURE = ["Pupil disclosure", "No", "The child is the victim", "Ava Stone", "Year 5",
                  "She said an older boy keeps messaging her (made-up words)", "No", "In class", "No", "No", "Send"]
AVA_MISUSE = ["Social media misuse", "A pupil", "Ava Stone", "Year 5", "Instagram", "A made-up post.", "No", "No",
              "No", "No screenshots", "Send"]


async def test_the_case_list_filters_by_child_only_among_the_cases_its_reader_may_see(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report(teacher, ILLEGAL_DISCLOSURE)  # SG-2026-0001, Leo
    clock.advance(minutes=5)
    await report(teacher, AVA_DISCLOSURE)  # SG-2026-0002, Ava
    clock.advance(minutes=5)
    await report(teacher, AVA_MISUSE)  # SG-2026-0003, Ava

    dsl = Terminal(app, "smorgan")
    await dsl.open()
    assert "child NAME, last: reports naming a child whose name has NAME in it" in text(await dsl.type("/help"))
    assert text(await dsl.type("/cases")).startswith("Your cases: 3\n")
    hers = text(await dsl.type("/cases child ava"))
    assert hers.startswith('Your cases (child "ava"): 2\n  SG-2026-0002  Pupil disclosure\n')
    assert "SG-2026-0003  Social media misuse" in hers and "SG-2026-0001" not in hers
    assert text(await dsl.type("/cases open child STONE")).startswith('Your cases (open, child "stone"): 2\n')
    assert text(await dsl.type("/cases pupil disclosure child ava stone")).startswith(
        'Your cases (pupil disclosure, child "ava stone"): 1\n  SG-2026-0002  Pupil disclosure\n')
    his = text(await dsl.type("/cases child marsh"))
    assert his.startswith('Your cases (child "marsh"): 1\n  SG-2026-0001  Pupil disclosure\n')
    assert await dsl.type("/cases child nobody") == ['No cases for you (child "nobody").']
    # The name is every word after `child`: a filter put after it is read as part of the name.
    assert await dsl.type("/cases child ava closed") == ['No cases for you (child "ava closed").']
    assert await dsl.type("/cases child") == ["! After 'child' give part of the child's name, like: child ava."]
    assert (await dsl.type("/cases child " + "a" * 61))[0].startswith("! A child's name in a filter is at most 60")

    # The headteacher was told of Leo's report and Ava's misuse, never of Ava's disclosure: the filter
    # finds only what she may already read.
    head = Terminal(app, "jellis")
    await head.open()
    assert text(await head.type("/cases child ava")) == (
        'Your cases (child "ava"): 1\n'
        "  SG-2026-0003  Social media misuse\n"
        "    20 Nov 2026 · owner: Designated safeguarding lead (DSL) · Not yet acknowledged, due by 10:25 on Fri 20 Nov\n"
        "    You can view, add a note")
    # Someone with no cases learns nothing about which children exist.
    assert await teacher.type("/cases child ava") == ['No cases for you (child "ava").']

    async with sessions() as session:
        events = json.dumps([[e.actor, e.kind, e.report_ref, e.data] for e in await session.scalars(select(Event))])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name in ("Ava", "ava", "Stone", "stone", "Marsh", "marsh", "nobody"):
        assert name not in events and name not in logged, name


async def test_the_dsl_reassigns_a_case_to_her_deputy_who_is_alerted_with_a_fresh_deadline(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report(teacher, ILLEGAL_DISCLOSURE)
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    clock.advance(minutes=2)
    await dsl.type("/ack SG-2026-0001")

    # Who it can go to: the school's handlers, never its reporter or a governor on a child's case.
    choices = text(await dsl.type("/reassign SG-2026-0001"))
    assert choices.startswith("SG-2026-0001 can be reassigned to:\n  jellis  Jordan Ellis (Headteacher)\n"
                              "  rpatel  Riya Patel (Deputy DSL)\n  tokafor  Tomi Okafor")
    assert "cfinch" not in choices and "hbrooks" not in choices and "dwilde" not in choices

    # Bad input: each says what is wrong, and nothing changes.
    assert await dsl.type("/reassign SG-2026-0099 rpatel Made-up reason") == [
        "! You can't reassign SG-2026-0099: it was not sent to you. If you think it should have been, speak to "
        "your Designated Safeguarding Lead."]
    assert await dsl.type("/reassign SG-2026-0001 nobody Made-up reason") == [
        "! SG-2026-0001 was not reassigned: nobody in Oakfield Lower School's staff list is called 'nobody'. "
        "Give their Safeguard id (like rpatel) or their full name."]
    assert await dsl.type("/reassign SG-2026-0001 cfinch Made-up reason") == [
        "! SG-2026-0001 was not reassigned: Chris Finch reported it; it goes to someone who can look at it afresh."]
    assert await dsl.type("/reassign SG-2026-0001 hbrooks Made-up reason") == [
        "! SG-2026-0001 was not reassigned: Helen Brooks is a governor: governors oversee through counts and handle "
        "only reports about the headteacher or other senior adults (KCSIE)."]
    assert await dsl.type("/reassign SG-2026-0001 smorgan Made-up reason") == [
        "! SG-2026-0001 was not reassigned: Sam Morgan owns it already."]
    assert (await dsl.type("/reassign SG-2026-0001 rpatel"))[0].startswith(
        "! SG-2026-0001 was not reassigned: give the reason for handing it over.")

    clock.advance(minutes=10)
    assert await dsl.type("/reassign SG-2026-0001 rpatel Made-up reason: I am on a course all week") == [
        "SG-2026-0001 is now Riya Patel's (Deputy DSL) to acknowledge by 09:57 on Fri 20 Nov; they have been "
        "alerted. You stay told of it: you can still view it and add notes. The person who reported it is not told."]

    deputy = Terminal(app, "rpatel")
    alerted = text(await deputy.open())
    assert "URGENT: Report SG-2026-0001 reassigned to you as Deputy DSL to acknowledge" not in alerted
    assert "Report SG-2026-0001 reassigned to you as Deputy DSL to acknowledge" in alerted
    assert "Acknowledge by 09:57 on Fri 20 Nov" in alerted and "The reason is in its log (View log)." in alerted
    assert "I am on a course" not in alerted, "the reason is kept in the log, not sent"
    assert "/ack SG-2026-0001" in alerted
    async with sessions() as session:
        stored = await get_report(session, "SG-2026-0001")
        assert stored is not None and stored.status == "open" and stored.acknowledged_at is None
        assert stored.escalation_step == 0 and stored.next_escalation_at == stored.ack_deadline
        assert app.local(stored.ack_deadline) == "09:57 on Fri 20 Nov"
        kinds = {(r.person_id, r.kind) for r in await session.scalars(select(Recipient))}
        assert ("rpatel", "owner") in kinds and ("smorgan", "informed") in kinds and ("smorgan", "owner") not in kinds

    # The previous owner, the DSL, is told of it now: as the DSL she may still act, and reassign it back.
    listed = text(await dsl.type("/cases"))
    assert "owner: Deputy DSL · Not yet acknowledged, due by 09:57 on Fri 20 Nov" in listed
    # The reporter hears nothing of it.
    news = text(await teacher.type("/alerts"))
    assert "reassign" not in news.lower() and "Riya" not in news

    viewed = text(await deputy.type("/view SG-2026-0001"))
    assert ("Reassigned to Riya Patel (Deputy DSL), reason given by Sam Morgan at 09:27 on Fri 20 Nov: "
            "Made-up reason: I am on a course all week") in viewed
    assert "reassigned 09:27 on Fri 20 Nov" in viewed
    clock.advance(minutes=3)
    assert (await deputy.type("/ack SG-2026-0001"))[0] == "You acknowledged SG-2026-0001 at 09:30 on Fri 20 Nov."

    async with sessions() as session:
        events = await events_for(session, "SG-2026-0001")
        reassigned = [e for e in events if e.kind == "reassigned"]
        assert len(reassigned) == 1 and reassigned[0].actor == "smorgan"
        assert reassigned[0].data["to"] == "rpatel" and reassigned[0].data["from"] == ["smorgan"]
        assert "course" not in str(reassigned[0].data) and len(reassigned[0].data["reason_digest"]) == 64
        to_reporter = await session.scalars(select(AlertDelivery.kind).where(AlertDelivery.person_id == "cfinch"))
        assert sorted(to_reporter) == ["acknowledged", "receipt"], "told once of the acknowledgement, never of the rest"
        assert (await verify(session)).ok


async def test_the_owner_reassigns_and_the_subject_of_a_report_is_never_eligible(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    # A concern about the deputy DSL's online behaviour: the headteacher's case.
    await report(teacher, ["Concern about a colleague", "Riya Patel", "Made-up messages to a pupil", "No", "No", "No",
                           "Send"])
    assert await teacher.step() is None
    head = Terminal(app, "jellis")
    await head.open()
    choices = text(await head.type("/reassign SG-2026-0001"))
    assert "rpatel" not in choices, choices
    assert await head.type("/reassign SG-2026-0001 rpatel Made-up reason") == [
        "! SG-2026-0001 was not reassigned: it is about Riya Patel, and nobody is ever given a report about themselves."]
    # Someone only told of a report may not hand it on, and learns nothing from trying.
    refused = await teacher.type("/reassign SG-2026-0001 smorgan Made-up reason")
    assert refused == ["! You can't reassign SG-2026-0001: it was not sent to you. If you think it should have been, "
                       "speak to your Designated Safeguarding Lead."]


async def test_only_the_dsl_or_a_deputy_reopens_a_closed_report_and_its_owner_is_told(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report(teacher, BULLIED_TEACHER)  # the headteacher's
    await report(teacher, ILLEGAL_DISCLOSURE)  # SG-2026-0002: the DSL's, the headteacher told
    head = Terminal(app, "jellis")
    await head.open()
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    clock.advance(minutes=5)
    await dsl.type("/close SG-2026-0002 handled_in_school Made-up reason: spoke to the family")
    clock.advance(minutes=60)

    # Bad input first: a teacher (refused, nothing revealed), the headteacher told of it, an open report, no reason.
    refusal = ("! You can't reopen SG-2026-0002: it was not sent to you. If you think it should have been, speak to "
               "your Designated Safeguarding Lead.")
    assert (await teacher.type("/reopen SG-2026-0002 Made-up reason"))[0] == refusal
    assert (await teacher.type("/reopen SG-2026-0077 Made-up reason"))[0] == refusal.replace("0002", "0077")
    assert (await head.type("/reopen SG-2026-0002 Made-up reason"))[0].startswith("! You can't reopen SG-2026-0002")
    assert await dsl.type("/reopen SG-2026-0001 Made-up reason") == [
        "! You can't reopen SG-2026-0001: it was not sent to you. If you think it should have been, speak to "
        "your Designated Safeguarding Lead."]
    assert (await dsl.type("/reopen SG-2026-0002"))[0].startswith(
        "! SG-2026-0002 is still closed: give the reason for reopening it.")

    news_before = len(teacher.printed)
    assert await dsl.type("/reopen SG-2026-0002 Made-up reason: the child has said more") == [
        "SG-2026-0002 is reopened: open, to be acknowledged by 10:50 on Fri 20 Nov. The person who reported it is "
        "not told."]
    async with sessions() as session:
        stored = await get_report(session, "SG-2026-0002")
        assert stored is not None and stored.status == "open" and stored.closed_at is None
        assert stored.close_reason is None and stored.next_escalation_at == stored.ack_deadline
    assert (await dsl.type("/reopen SG-2026-0002 Made-up reason"))[0] == (
        "! SG-2026-0002 is not closed, so there is nothing to reopen.")
    viewed = text(await dsl.type("/view SG-2026-0002"))
    assert "Report SG-2026-0002: open" in viewed
    assert ("How it had been closed, kept when it was reopened by Sam Morgan at 10:20 on Fri 20 Nov: Closed by Sam "
            "Morgan at 09:20 on Fri 20 Nov: Handled in school. Reason: Made-up reason: spoke to the family") in viewed
    assert "Reopened, reason given by Sam Morgan at 10:20 on Fri 20 Nov: Made-up reason: the child has said more" in viewed
    assert "closed 09:20 on Fri 20 Nov;" in viewed and "reopened 10:20 on Fri 20 Nov" in viewed
    assert "SG-2026-0002" not in text(teacher.printed[news_before:] + await teacher.type("/alerts")), (
        "the reporter is not told")

    # Handed to the deputy, who closes it; the DSL reopens it again and the deputy, its owner, is told.
    await dsl.type("/reassign SG-2026-0002 rpatel Made-up reason: she knows the family")
    deputy = Terminal(app, "rpatel")
    await deputy.open()
    await deputy.type("/ack SG-2026-0002")
    assert (await deputy.type("/close SG-2026-0002 social_care Made-up reason: referred"))[0].startswith(
        "SG-2026-0002 is closed: Referred to children's social care.")
    clock.advance(minutes=5)
    assert await dsl.type("/reopen SG-2026-0002 Made-up reason: a second disclosure") == [
        "SG-2026-0002 is reopened: acknowledged, still open. Its owner, Riya Patel, has been told. The person who "
        "reported it is not told."]
    told = text(await deputy.type("/alerts"))
    assert "Report SG-2026-0002 has been reopened: it is open again." in told
    assert "The reason is in its log (View log)." in told and "second disclosure" not in told
    assert "/close SG-2026-0002" not in told and "/reassign SG-2026-0002 PERSON REASON" in told
    # A deputy may reopen too, once it is closed again.
    await deputy.type("/close SG-2026-0002 social_care Made-up reason: referred again")
    assert (await deputy.type("/reopen SG-2026-0002 Made-up reason: more came to light"))[0].startswith(
        "SG-2026-0002 is reopened: acknowledged, still open.")
    async with sessions() as session:
        assert (await verify(session)).ok
        to_reporter = await session.scalars(select(AlertDelivery.kind).where(AlertDelivery.person_id == "cfinch"))
        assert "reopened" not in set(to_reporter)


async def test_the_weekly_digest_counts_a_reopened_report_as_open_and_a_reassigned_one_once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await report(teacher, ILLEGAL_DISCLOSURE)
    await report(teacher, BULLIED_TEACHER)
    dsl, head = Terminal(app, "smorgan"), Terminal(app, "jellis")
    await dsl.open()
    await head.open()
    await dsl.type("/ack SG-2026-0001")
    await dsl.type("/close SG-2026-0001 handled_in_school Made-up reason")
    await head.type("/reassign SG-2026-0002 rpatel Made-up reason")
    week = parse_week("2026-W47")
    before = await weekly_figures(app, week, now=clock())
    assert (before.totals[-1], before.open_total) == (2, 1)
    assert before.by_owner == {"dsl": [0, 0, 0, 0, 1], "headteacher": [0, 0, 0, 0, 1]}, "counted as routed, once"
    clock.advance(minutes=5)
    await dsl.type("/reopen SG-2026-0001 Made-up reason: more came to light")
    after = await weekly_figures(app, week, now=clock())
    assert (after.totals[-1], after.open_total) == (2, 2), "reopened, it is open again"
    assert sorted(after.open_references) == ["SG-2026-0001", "SG-2026-0002"]
    assert after.acknowledged == 1
