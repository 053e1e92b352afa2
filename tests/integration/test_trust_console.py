"""A trust of three schools in one deployment, at the console: each school's reports stay its own.

The example trust (bot/examples/trust.yaml) on SQLite and, with TEST_DATABASE_URL, PostgreSQL:
a teacher at Bellevue Place reports, its DSL is alerted, and Oakfield's DSL, the trust's Chief
Executive and its safeguarding lead see nothing of it; Priya Shah, deputy DSL at two schools,
is asked which school her report is for.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, App
from bot.examples import EXAMPLE_TRUST
from bot.cases.escalation import escalate_due
from bot.scheduler import Scheduler
from routing.trust import load_deployment
from storage.models import Recipient, Report
from tests.builders import example_trust_with_ids, write_yaml
from tests.integration.console import Clock, Terminal, text

TRUST = load_deployment(EXAMPLE_TRUST)
BPA, HOL, OAK = TRUST.schools
WORDS = "He said a man he met in a game keeps asking him for photos (made-up words)"
DISCLOSURE = ["Pupil disclosure", "No", "The child is the victim", "Leo Marsh", "Skip", WORDS, "Yes", "With me",
              "No", "No"]


def trust_app(sessions: async_sessionmaker[AsyncSession], clock: Clock, *, pinned: str | None = None) -> App:
    """The deployment as `safeguard serve --config trust.yaml` (or `chat --school`) builds it."""
    school = BPA if pinned is None else next(s for s in TRUST.schools if s.key == pinned)
    return App(school, sessions, channels=(CONSOLE,), clock=clock, deployment=TRUST, pinned=pinned is not None)


def at(app: App, person_id: str) -> Terminal:
    """A person at the console, acting for the one school they work at (as `safeguard chat` picks it)."""
    return Terminal(app.for_person(person_id), person_id)


async def report_disclosure(terminal: Terminal) -> list[str]:
    for line in DISCLOSURE:
        await terminal.type(line)
    assert await terminal.step() == "summary"
    return await terminal.type("Send")


async def test_a_report_at_one_school_reaches_that_school_s_dsl_and_nobody_elsewhere(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = trust_app(sessions, clock)
    teacher = at(app, "gmarsh")  # a teacher at Bellevue Place
    printed = await report_disclosure(teacher)
    assert printed[0].startswith("Thank you. Your report SG-BPA-2026-0001 has been sent to the "), printed
    async with sessions() as session:
        stored = (await session.scalars(select(Report))).one()
        told = {r.person_id for r in await session.scalars(select(Recipient))}
    assert (stored.reference, stored.school) == ("SG-BPA-2026-0001", "bpa")
    assert told <= {p.id for p in BPA.everyone} and "obrien" in told
    assert told.isdisjoint({"smorgan", "jellis", "ebarker", "zahmed"})

    clock.advance(minutes=3)
    dsl = at(app, "obrien")
    opened = text(await dsl.open())
    assert "URGENT: New report SG-BPA-2026-0001 for you to acknowledge" in opened
    assert "You acknowledged SG-BPA-2026-0001" in text(await dsl.type("/ack sg-bpa-2026-0001"))

    # Oakfield's DSL, Hollins Cross's head (its DSL), the Chief Executive and the trust safeguarding lead.
    for other in ("smorgan", "ebarker", "arowe", "mhale"):
        elsewhere = at(app, other)
        seen = text(await elsewhere.open()) + text(await elsewhere.type("/alerts")) \
            + text(await elsewhere.type("/cases all"))
        assert "SG-BPA" not in seen, other
        assert (await elsewhere.type("/view SG-BPA-2026-0001"))[0].startswith(
            "! You can't see SG-BPA-2026-0001: it was not sent to you"), other
        assert (await elsewhere.type("/note SG-BPA-2026-0001 A made-up note"))[0].startswith("! You can't"), other
        assert "Leo Marsh" not in text(await elsewhere.type("/history SG-BPA-2026-0001")), other
    oak_dsl = Terminal(app.for_school(OAK), "smorgan")
    assert "Leo Marsh" not in text(await oak_dsl.type("/child leo")), "one school's pupils are not another's"


async def test_a_concern_about_a_headteacher_on_bpet_s_policy_goes_to_the_chief_executive_only(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = trust_app(sessions, clock)
    teacher = at(app, "gmarsh")
    for line in ["Concern about a colleague", "Nadia Kaur", "Posted a made-up photo of pupils on a personal account",
                 "No", "No", "No"]:
        await teacher.type(line)
    assert await teacher.step() == "summary"
    sent = text(await teacher.type("Send"))
    assert "SG-BPA-2026-0001" in sent and "Chief Executive" in sent, sent
    ceo = at(app, "arowe")
    assert "SG-BPA-2026-0001" in text(await ceo.open())
    assert "SG-BPA-2026-0001" in text(await ceo.type("/alerts"))
    head = at(app, "nkaur")
    assert "SG-BPA-2026-0001" not in text(await head.open()) + text(await head.type("/cases all"))
    assert (await head.type("/view SG-BPA-2026-0001"))[0].startswith("! You can't see")


async def test_a_deputy_at_two_schools_is_asked_which_and_the_report_lands_there(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = trust_app(sessions, clock)
    deputy = Terminal(app, "pshah")
    opened = text(await deputy.open())
    assert "Bellevue Place Education Trust" in opened
    asked = await deputy.type("Pupil disclosure")
    assert asked[-1].startswith("Which school of Bellevue Place Education Trust is this report for?"), asked
    assert "Oakfield" in asked[-1] and "Hollins" not in asked[-1], "only the schools she works at"
    assert await deputy.step() == "school"
    wrong = await deputy.type("Hollins Cross")
    assert wrong[0].startswith("! "), wrong
    chosen = await deputy.type("Oakfield")
    assert chosen[0] == "This report is for Oakfield Lower School."
    assert await deputy.step() == "category"
    for line in DISCLOSURE:
        await deputy.type(line)
    sent = text(await deputy.type("Send"))
    assert "SG-OAK-2026-0001" in sent, sent
    async with sessions() as session:
        stored = (await session.scalars(select(Report))).one()
    assert stored.school == "oak"
    assert "SG-OAK-2026-0001" in text(await at(app, "smorgan").open())
    assert "SG-OAK" not in text(await at(app, "obrien").open())
    # A teacher at one school is not asked.
    teacher = at(app, "cfinch")
    assert (await teacher.type("Pupil disclosure"))[-1].startswith("Is the child telling you about an adult")


async def test_chat_with_a_school_pinned_does_not_ask_and_a_trust_person_is_asked_among_every_school(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    pinned = trust_app(sessions, clock, pinned="bpa")
    deputy = Terminal(pinned, "pshah")
    assert (await deputy.type("Pupil disclosure"))[-1].startswith("Is the child telling you about an adult")
    app = trust_app(sessions, clock)
    ceo = Terminal(app, "arowe")
    asked = (await ceo.type("hello"))[-1]
    assert all(school.name in asked for school in TRUST.schools), asked


async def test_each_school_s_reports_escalate_up_its_own_ladder_on_its_own_policy(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = trust_app(sessions, clock)
    hol_ref = await report_disclosure(at(app, "wprice"))  # Hollins Cross, on Mersham's policy
    oak_ref = await report_disclosure(at(app, "cfinch"))  # Oakfield, on St Leonard's
    assert "SG-HOL-2026-0001" in hol_ref[0] and "SG-OAK-2026-0001" in oak_ref[0]
    clock.advance(minutes=61)
    steps = {step.reference: step for step in (await Scheduler(app).run_once()).escalated}
    assert set(steps) == {"SG-HOL-2026-0001", "SG-OAK-2026-0001"}
    hol, oak = steps["SG-HOL-2026-0001"], steps["SG-OAK-2026-0001"]
    assert hol.alerted and set(hol.alerted) <= {p.id for p in HOL.everyone}, hol
    assert oak.alerted and set(oak.alerted) <= {p.id for p in OAK.everyone}, oak
    assert "zahmed" in hol.alerted and "zahmed" not in oak.alerted


async def test_a_school_s_next_rung_is_due_by_its_own_calendar_not_another_school_s(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    # Hollins Cross's school day ends at 10:30 here; Bellevue Place's (the first school) at 18:00.
    trust_file = example_trust_with_ids(tmp_path, "teams")
    hol_file = tmp_path / "schools" / "hollins-cross.yaml"
    data = yaml.safe_load(hol_file.read_text(encoding="utf-8"))
    data["school_hours"] = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "10:30"}
    write_yaml(hol_file, data)
    trust = load_deployment(trust_file)
    app = App(trust.schools[0], sessions, channels=(CONSOLE,), clock=clock, deployment=trust)
    wprice = at(app, "wprice")
    for line in DISCLOSURE:  # no immediate risk: the clock counts school hours
        await wprice.type("No" if line == "Yes" else line)
    assert "SG-HOL-2026-0001" in text(await wprice.type("Send"))
    clock.advance(minutes=61)  # Fri 10:16: past the owner's deadline, 14 minutes of the school day left
    [step] = await escalate_due(app)
    assert step.reference == "SG-HOL-2026-0001"
    async with sessions() as session:
        stored = (await session.scalars(select(Report))).one()
    assert stored.next_escalation_at is not None
    assert stored.next_escalation_at.astimezone(app.zone).strftime("%a") == "Mon", stored.next_escalation_at


async def test_a_concern_about_the_chief_executive_is_reported_from_a_school_and_never_reaches_them(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = trust_app(sessions, clock)
    teacher = at(app, "wprice")  # Hollins Cross: the trust's own people are in its staff list too
    for line in ["Concern about a colleague", "Alex Rowe", "Made-up messages to a pupil on a personal account",
                 "No", "No", "No"]:
        await teacher.type(line)
    assert await teacher.step() == "summary"
    sent = text(await teacher.type("Send"))
    assert "SG-HOL-2026-0001" in sent, sent
    async with sessions() as session:
        told = {r.person_id for r in await session.scalars(select(Recipient))}
    assert "kdaly" in told and "arowe" not in told, told
    ceo = at(app, "arowe")
    assert "SG-HOL" not in text(await ceo.open()) + text(await ceo.type("/cases all"))
    assert (await ceo.type("/view SG-HOL-2026-0001"))[0].startswith("! You can't see SG-HOL-2026-0001")
    assert "SG-HOL-2026-0001" in text(await at(app, "kdaly").open())
