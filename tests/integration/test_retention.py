"""Retention: a closed report's words erased by the scheduler when its period is up; holds, hand-offs, subject access.

Time is a clock moved by hand; each round is what the server's scheduler runs. The commands are
run as the DSL would run them. Every test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import CONSOLE, App
from bot.cases import lifecycle, retention
from bot.cases.retention import RecordsRefused
from bot.cli.main import cli, main
from bot.cli.records import NOT_LISTED
from bot.examples import EXAMPLE_SCHOOL, EXAMPLE_TRUST
from bot.scheduler import Scheduler
from dialogs import ReportDraft
from dialogs.report import NamedPupil, PupilRole
from routing.school import load_school
from routing.vocabulary import Category, Subject
from routing.yamlfields import InputError
from storage.db import create_engine, sessionmaker
from storage.drafts import save_draft
from storage.evidence import add_draft_screenshot
from storage.log import entries, events_for, verify
from storage.models import Pupil, Report, ReportEvidence, ReportHold, ReportNote, ReportPupil
from storage.reports import close_report
from storage.retention import erase
from tests.builders import TEST_KEY, TEST_KEYS, Clock, screenshot, submitted, write_yaml
from tests.integration.console import console_app
from tests.integration.helpers import minutes
from tests.integration.test_escalation import DSL, HEAD, TEACHER, reported
from tests.integration.trust_helpers import two_schools

NOTE = "Spoke to Test Pupil A's form tutor (made up)"
REASON = "Made-up reason naming Test Pupil A"
DETAILS = "A made-up incident for a test"


async def run(*args: str) -> Result:
    """Run `safeguard ...` with this run's test key, as the DSL's admin would (on a thread: it calls asyncio.run)."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env={"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY})


def school_config(tmp_path: Path) -> Path:
    """The example school, keeping pupil disclosures two years and everything else one."""
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    data["retention"] = {"default": "P1Y", "rules": [{"category": "pupil_disclosure", "keep": "P2Y"}]}
    return write_yaml(tmp_path / "school.yaml", data)


def app_for(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Path) -> App:
    return console_app(sessions, clock, school=load_school(config))


async def closed(app: App, decision: str = "handled_in_school") -> str:
    """A pupil disclosure made, routed to the DSL, acknowledged, noted and closed through the lifecycle."""
    reference = await reported(app)
    assert (await lifecycle.acknowledge(app, DSL, reference)).changed
    assert (await lifecycle.add_note(app, DSL, reference, NOTE)).changed
    assert (await lifecycle.close(app, DSL, reference, decision, REASON)).changed
    return reference


async def raw_row(engine: AsyncEngine, reference: str) -> dict[str, object]:
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT details, close_reason, erased_at, category, status, closed_by "
                                             "FROM reports WHERE reference = :ref"), {"ref": reference})).one()
    return dict(row._mapping)


async def test_a_closed_report_is_erased_when_its_period_is_up_and_the_log_still_verifies(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    config = school_config(tmp_path)
    app = app_for(sessions, clock, config)
    scheduler = Scheduler(app)
    reference = await closed(app)
    closed_at = clock()

    clock.advance(days=365)
    assert (await scheduler.run_once()).erased == (), "a pupil disclosure is kept two years, not one"
    clock.advance(days=366)
    assert (await scheduler.run_once()).erased == (reference,)
    assert (await scheduler.run_once()).erased == (), "erased once"

    async with sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert report.details == {} and report.close_reason is None and report.erased_at == clock()
        # The skeleton stays: what it was, who closed it when, with what decision.
        assert (report.category, report.status, report.closed_by, report.closed_at, report.close_decision) == (
            "pupil_disclosure", "closed", DSL, closed_at, "handled_in_school")
        notes = list(await session.scalars(select(ReportNote).where(ReportNote.report_id == report.id)))
        assert [(n.author, n.text) for n in notes] == [(DSL, "")]
        [erased] = [e for e in await events_for(session, reference) if e.kind == "erased"]
        assert erased.actor == "system" and erased.data["rule"] == "category pupil_disclosure: P2Y"
        assert (erased.data["details"], erased.data["notes"], erased.data["close_reason"]) == (1, 1, 1)
        result = await verify(session)
        assert result.ok, result.problem
        assert result.erased == 1
    raw = await raw_row(engine, reference)
    assert raw["close_reason"] is None and raw["category"] == "pupil_disclosure"
    dump = json.dumps({k: str(v) for k, v in raw.items()})
    assert DETAILS not in dump and REASON not in dump

    verified = await run("log", "verify", "--database-url", database_url)
    assert (verified.exit_code, verified.output.endswith("; 1 report(s) erased under retention\n")) == (0, True), \
        verified.output
    exported = await run("log", "export", "--database-url", database_url, "--config", str(config), "--as", DSL,
                         "--format", "jsonl")
    assert exported.exit_code == 0, exported.output
    assert any(json.loads(line)["kind"] == "erased" for line in exported.output.splitlines())
    shown = (await lifecycle.view(app, DSL, reference)).reply.text
    assert "Reason: (erased under retention)" in shown and "erased under the school's retention rules" in shown
    assert REASON not in shown and NOTE not in shown
    # Nothing more is written on an erased report.
    refused = await lifecycle.add_note(app, DSL, reference, "another made-up note")
    assert not refused.changed and "erased" in refused.reply.text


async def test_a_held_report_is_kept_until_the_hold_is_released(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    config = school_config(tmp_path)
    app = app_for(sessions, clock, config)
    scheduler = Scheduler(app)
    reference = await closed(app)
    args = ["--database-url", database_url, "--config", str(config)]

    due = await run("records", "due", "--within", "5y", *args)
    assert due.exit_code == 0, due.output
    assert f"{reference}\tpupil_disclosure\t" in due.output and "category pupil_disclosure: P2Y" in due.output
    assert DETAILS not in due.output and "Finch" not in due.output

    held = await run("records", "hold", reference, "--as", DSL, "--reason", "Made-up inquiry asked us to keep it", *args)
    assert held.exit_code == 0, held.output
    assert (await run("records", "due", "--within", "5y", *args)).output.splitlines()[1].endswith("\theld")
    again = await run("records", "hold", reference, "--as", DSL, "--reason", "twice", *args)
    assert isinstance(again.exception, InputError) and "already under a legal hold" in str(again.exception)

    clock.advance(days=365 * 3)
    assert (await scheduler.run_once()).erased == (), "nothing under hold is erased"
    async with sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == reference))).one()
        assert report.details != {} and report.erased_at is None
        [row] = await session.scalars(select(ReportHold))
        assert row.reason == "Made-up inquiry asked us to keep it"
        [event] = [e for e in await events_for(session, reference) if e.kind == "held"]
        assert "Made-up" not in json.dumps(event.data) and set(event.data) == {"hold", "reason_digest"}

    released = await run("records", "release", reference, "--as", DSL, *args)
    assert released.exit_code == 0, released.output
    assert (await scheduler.run_once()).erased == (reference,)
    async with sessions() as session:
        [row] = await session.scalars(select(ReportHold))
        assert row.reason == "" and row.released_by == DSL
        assert (await verify(session)).ok
    after = await run("records", "due", "--within", "5y", *args)
    assert after.output == "Nothing is due for erasure within 5y.\n"
    late = await run("records", "hold", reference, "--as", DSL, "--reason", "too late", *args)
    assert isinstance(late.exception, InputError) and "erased" in str(late.exception)
    unheld = await run("records", "release", reference, "--as", DSL, *args)
    assert isinstance(unheld.exception, InputError) and "not under a legal hold" in str(unheld.exception)


async def test_a_report_handed_on_is_erased_after_the_short_period_and_not_before(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    config = school_config(tmp_path)
    app = app_for(sessions, clock, config)
    scheduler = Scheduler(app)
    reference = await closed(app, decision="social_care")
    kept = await closed(app)
    # At the test's own clock, as `safeguard records handed-on` does it at the real one.
    dsl = app.person(DSL)
    assert dsl is not None
    await retention.hand_on(sessions, app.school, dsl, reference, to="Made-up child protection file", now=clock())
    async with sessions() as session:
        [event] = [e for e in await events_for(session, reference) if e.kind == "handed_on"]
        assert set(event.data) == {"to_digest"}
    clock.advance(days=40)
    assert (await scheduler.run_once()).erased == ()
    clock.advance(days=60)
    assert (await scheduler.run_once()).erased == (reference,), "handed on: three months, not two years"
    async with sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == kept))).one()
        assert report.erased_at is None and report.details != {}
        assert (await verify(session)).ok


async def test_only_the_dsl_or_the_head_may_hold_and_a_refusal_is_logged(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    config = school_config(tmp_path)
    app = app_for(sessions, clock, config)
    reference = await closed(app)
    args = ["--database-url", database_url, "--config", str(config)]
    refused = await run("records", "hold", reference, "--as", TEACHER, "--reason", "made up", *args)
    assert isinstance(refused.exception, RecordsRefused), refused.output
    handed = await run("records", "handed-on", reference, "--as", TEACHER, "--to", "made up", *args)
    assert isinstance(handed.exception, RecordsRefused), handed.output
    unknown = await run("records", "hold", "SG-2026-0999", "--as", DSL, "--reason", "made up", *args)
    assert isinstance(unknown.exception, RecordsRefused)
    bad = await run("records", "due", "--within", "soon", *args)
    assert isinstance(bad.exception, InputError) and str(bad.exception).startswith("--within 'soon':")
    async with sessions() as session:
        refusals = [(e.actor, e.report, e.data) async for e in entries(session) if e.kind == "refused"]
        assert refusals == [(TEACHER, reference, {"action": "hold"}), (TEACHER, reference, {"action": "hold"}),
                            (DSL, None, {"action": "hold", "reference": "SG-2026-0999"})]
        assert not list(await session.scalars(select(ReportHold)))


async def test_the_dsl_lists_a_members_reports_but_not_those_she_may_not_see(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path, database_url: str
) -> None:
    config = school_config(tmp_path)
    app = app_for(sessions, clock, config)
    # About the online safety officer: a colleague concern, which goes to the headteacher, not the DSL.
    about = await reported(app, Category.COLLEAGUE_CONCERN, Subject.STAFF, subject_person="tokafor")
    made = await reported(app)
    async with sessions.begin() as session:  # made by them (reported() makes the class teacher its reporter)
        await session.execute(text("UPDATE reports SET reporter = 'tokafor' WHERE reference = :r"), {"r": made})
    args = ["--database-url", database_url, "--config", str(config)]
    listed = await run("records", "about", "tokafor", "--as", DSL, *args)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[-1] == NOT_LISTED
    assert [line.split("\t")[0] for line in lines[:-1]] == [made]
    assert lines[0].endswith("\tmade by them") and about not in listed.output
    head = await run("records", "about", "tokafor", "--as", HEAD, *args)
    assert isinstance(head.exception, RecordsRefused)
    async with sessions() as session:
        logged = [(e.kind, e.actor, e.data) async for e in entries(session) if e.kind in ("subject_access", "refused")]
        assert logged == [("subject_access", DSL, {"person": "tokafor", "count": 1}),
                          ("refused", HEAD, {"action": "subject_access", "person": "tokafor"})]


async def test_blanking_words_without_an_erasure_is_tampering_and_so_is_editing_an_erased_skeleton(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = app_for(sessions, clock, school_config(tmp_path))
    erased, blanked = await closed(app), await closed(app)
    clock.advance(days=365 * 2 + 1)
    async with sessions.begin() as session:  # one erased as the scheduler does it; the other left alone
        assert await erase(session, now=clock(), report_id=await _id(session, erased), rule="test") is not None
    async with sessions() as session:
        assert (await verify(session)).ok

    # Blanking a note of a report not erased: the log has no erasure to vouch for it.
    async with sessions.begin() as session:
        await session.execute(update(ReportNote).where(ReportNote.report_id == await _id(session, blanked))
                              .values(text=""))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and "was edited: it no longer matches its digest" in result.problem
    async with sessions.begin() as session:
        await session.execute(update(ReportNote).where(ReportNote.report_id == await _id(session, blanked))
                              .values(text=NOTE))
        # ... and its details.
        await session.execute(update(Report).where(Report.reference == blanked).values(details={}))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and result.problem.startswith(f"report {blanked} was edited after it was made")

    async with sessions.begin() as session:
        await session.execute(update(Report).where(Report.reference == blanked).values(details={"what": DETAILS}))
        assert (await verify(session)).ok
        # The skeleton of the erased report is vouched for by its `erased` event.
        await session.execute(update(Report).where(Report.reference == erased).values(category="misuse"))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and result.problem.startswith(f"report {erased} was edited after its words were erased")
    async with sessions.begin() as session:
        await session.execute(update(Report).where(Report.reference == erased)
                              .values(category="pupil_disclosure", close_reason="words put back"))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and f"report {erased} was edited: how it was closed" in result.problem


async def _id(session: AsyncSession, reference: str) -> int:
    return (await session.scalars(select(Report.id).where(Report.reference == reference))).one()


async def test_erasure_takes_the_screenshots_and_the_pupils_only_that_report_named(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = app_for(sessions, clock, school_config(tmp_path))
    async with sessions.begin() as session:  # a screenshot sent with the draft, kept with it until Send
        await save_draft(session, now=clock(), channel=CONSOLE, user_id=TEACHER, state={})
        await add_draft_screenshot(session, channel=CONSOLE, user_id=TEACHER, position=1, content_type="image/png",
                                   sha256="0" * 64, data=screenshot())
    named = (NamedPupil(PupilRole.CHILD, "Zed Quill", "Year 4"), NamedPupil(PupilRole.TOLD_BY, "Ava Stone", "Year 5"))
    first = await submitted(app, ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"words": DETAILS},
                                             pupils=named, screenshots=1), reporter=TEACHER, channel=CONSOLE)
    await submitted(app, ReportDraft(Category.PUPIL_DISCLOSURE, Subject.PUPIL, details={"words": "another, made up"},
                                     pupils=(named[1],)), reporter=TEACHER, channel=CONSOLE)
    assert (await lifecycle.close(app, DSL, first, "handled_in_school", REASON)).changed
    clock.advance(days=365 * 2 + 1)
    assert (await Scheduler(app).run_once()).erased == (first,)
    async with sessions() as session:
        report = (await session.scalars(select(Report).where(Report.reference == first))).one()
        assert report.screenshots == 1, "how many came stays; the pictures go"
        assert not list(await session.scalars(select(ReportEvidence)))
        assert not list(await session.scalars(select(ReportPupil).where(ReportPupil.report_id == report.id)))
        assert sorted(p.name for p in await session.scalars(select(Pupil))) == ["Ava Stone"]
        [event] = [e for e in await events_for(session, first) if e.kind == "erased"]
        assert (event.data["screenshots"], event.data["pupils"], event.data["typed_pupils"]) == (1, 2, 1)
        assert (await verify(session)).ok


async def test_a_hold_released_or_deleted_outside_safeguard_is_tampering(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = app_for(sessions, clock, school_config(tmp_path))
    reference = await closed(app)
    dsl = app.person(DSL)
    assert dsl is not None
    await retention.hold(sessions, app.school, dsl, reference, reason="Made-up inquiry", now=clock())
    await retention.hand_on(sessions, app.school, dsl, reference, to="Made-up file", now=clock())
    async with sessions() as session:
        assert (await verify(session)).ok
    async with sessions.begin() as session:  # lifted by hand, so the scheduler would erase it
        await session.execute(update(ReportHold).values(released_at=clock(), released_by=DSL))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and "its release no longer matches the log" in result.problem
    async with sessions.begin() as session:
        await session.execute(delete(ReportHold))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and "is missing, so it was deleted" in result.problem
    async with sessions.begin() as session:
        await session.execute(update(Report).values(handed_on_to="somewhere else"))
    async with sessions() as session:
        result = await verify(session)
    assert not result.ok and "is missing, so it was deleted" in result.problem, "the first problem still first"


async def test_in_a_trust_each_school_sees_and_holds_only_its_own_records(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    refs = await two_schools(sessions)
    async with sessions.begin() as session:
        for ref, person in ((refs["bpa"][0], "obrien"), (refs["oak"][0], "smorgan")):
            await close_report(session, now=minutes(10), report_ref=ref, person_id=person,
                               decision="handled_in_school", reason="Made up")
    trust = ["--database-url", database_url, "--config", str(EXAMPLE_TRUST)]
    due = await run("records", "due", "--within", "10y", *trust, "--school", "bpa")
    assert due.exit_code == 0, due.output
    assert refs["bpa"][0] in due.output and refs["oak"][0] not in due.output and "default: P6Y" in due.output
    which = await run("records", "due", *trust)
    assert isinstance(which.exception, InputError) and "say which with --school" in str(which.exception)
    other = await run("records", "hold", refs["oak"][0], "--as", "obrien", "--reason", "made up", *trust,
                      "--school", "bpa")
    assert isinstance(other.exception, RecordsRefused)
    own = await run("records", "hold", refs["bpa"][0], "--as", "obrien", "--reason", "made up", *trust,
                    "--school", "bpa")
    assert own.exit_code == 0, own.output
    async with sessions() as session:
        assert (await verify(session)).ok
        refused = [(e.chain, e.report) async for e in entries(session) if e.kind == "refused"]
        assert refused == [("bpa", None)], "logged in the asking school's chain, naming no other school's report"


async def test_two_servers_on_one_database_erase_each_report_once(
    database_url: str, engine: AsyncEngine, clock: Clock, tmp_path: Path
) -> None:
    config = school_config(tmp_path)
    first = app_for(sessionmaker(engine), clock, config)
    references = [await closed(first) for _ in range(6)]
    other_engine = create_engine(database_url, keys=TEST_KEYS)
    try:
        schedulers = [Scheduler(first), Scheduler(app_for(sessionmaker(other_engine), clock, config))]
        clock.advance(days=365 * 2 + 1)
        rounds = await asyncio.gather(*(s.run_once() for s in schedulers))
        erased = [ref for r in rounds for ref in r.erased]
        assert sorted(erased) == references, "each report by one server, none missed"
        async with first.sessions() as session:
            events = [e.report async for e in entries(session) if e.kind == "erased"]
            assert sorted(events) == references
            assert (await verify(session)).ok
    finally:
        await other_engine.dispose()


@pytest.mark.parametrize(("args", "line"), [
    (["records", "due", "--within", "soon"], "safeguard: error: --within 'soon': not a period; use 30d"),
    (["records", "hold", "not-a-ref", "--as", DSL, "--reason", "x"], "safeguard: error: 'not-a-ref' is not a report"),
    (["records", "release", "SG-2026-0001", "--as", "nobody"], "safeguard: error: --as nobody: nobody has that id"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    args: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith(line) and err.count("\n") == 1, err
