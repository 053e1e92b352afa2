"""Records of a report sent without a name: erased with its sealed link, and never listed for its reporter.

The teacher sends a concern about a colleague without their name at the console, and a pupil's
disclosure with it; nobody acknowledges the concern, so it reaches the DSL. The DSL then runs
`safeguard records about` on the teacher, closes both and hands the concern on to the personnel
file, and once the hand-off period is up the scheduler erases it. Once erased, not even a
report's own reporter writes on it again.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases import lifecycle, retention
from bot.cli.records import NOT_LISTED
from bot.scheduler import Scheduler
from storage.log import events_for, verify
from storage.models import Report
from storage.sealed_reporters import SealedReporter
from tests.builders import Clock
from tests.integration.anonymity import RELAY
from tests.integration.console import Terminal, text
from tests.integration.test_console_anonymous import CONCERN, typed
from tests.integration.test_escalation import DSL, TEACHER, reported
from tests.integration.test_retention import app_for, closed, run, school_config


async def test_an_anonymous_report_is_erased_with_its_sealed_link_and_never_listed_for_its_reporter(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    config = school_config(tmp_path)
    app = replace(app_for(sessions, clock, config), relay=RELAY)
    scheduler = Scheduler(app)
    teacher = Terminal(app, TEACHER)
    await teacher.open()
    await typed(teacher, CONCERN)
    sent = text(await teacher.type("Send without my name"))
    concern = sent.split("Your report ")[1].split()[0]
    named = await reported(app)  # a pupil's disclosure the teacher made with their name: the DSL's

    # Nobody acknowledges the concern, so it climbs to the DSL: she may see it, but not who sent it.
    clock.advance(hours=2)
    assert (await scheduler.run_once()).escalated
    assert f"Report {concern}" in (await lifecycle.view(app, DSL, concern)).reply.text

    # A subject access request about the teacher lists what they made with their name, never what they sent without.
    args = ["--database-url", database_url, "--config", str(config)]
    listed = await run("records", "about", TEACHER, "--as", DSL, *args)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == [named] and lines[-1] == NOT_LISTED
    assert concern not in listed.output

    # Closed and handed on to the member of staff's personnel file, then erased after the hand-off period
    # (colleague concerns are otherwise kept 50 years): its sealed link goes with its words.
    for reference in (concern, named):
        assert (await lifecycle.acknowledge(app, DSL, reference)).changed
        assert (await lifecycle.close(app, DSL, reference, "handled_in_school", "Made-up reason")).changed
    dsl = app.person(DSL)  # at the test's own clock, as `safeguard records handed-on` does it at the real one
    assert dsl is not None
    await retention.hand_on(sessions, app.school, dsl, concern, to="Made-up personnel file", now=clock())
    assert "Your report" in text(await teacher.type("/alerts")), "the reporter heard, through the sealed link"
    async with sessions() as session:
        assert len((await session.scalars(select(SealedReporter))).all()) == 1
    clock.advance(days=100)
    assert (await scheduler.run_once()).erased == (concern,), "the disclosure is kept for years"
    async with sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == concern))).one()
        assert report.erased_at is not None and report.reporter.startswith("anonymous-")
        assert (await session.scalars(select(SealedReporter))).all() == []
        [erased] = [e for e in await events_for(session, concern) if e.kind == "erased"]
        assert erased.actor == "system"
        result = await verify(session)
        assert result.ok and result.erased == 1, result.problem
    verified = await run("log", "verify", "--database-url", database_url)
    assert verified.exit_code == 0 and verified.output.endswith("; 1 report(s) erased under retention\n"), verified.output

    # Nobody can now tell the teacher is its reporter, not even the bot: they are refused like anyone else.
    assert text(await teacher.type(f"/add {concern} Made-up")) == (
        f"! You can't add to {concern}: only the person who reported it can.")


async def test_nothing_is_added_to_an_erased_report_not_even_by_its_reporter(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = app_for(sessions, clock, school_config(tmp_path))
    reference = await closed(app)  # a pupil's disclosure, made by the teacher, closed by the DSL
    clock.advance(days=366 * 2)
    assert (await Scheduler(app).run_once()).erased == (reference,)
    teacher = Terminal(app, TEACHER)
    await teacher.open()
    assert text(await teacher.type(f"/add {reference} A made-up afterthought")) == (
        f"! {reference} is closed and its words were erased under the school's retention rules, so nothing more can "
        "be recorded on it.")
    async with sessions() as session:
        assert [e.kind for e in await events_for(session, reference) if e.kind.startswith("reporter_")] == []
        assert (await verify(session)).ok
