"""At the console: a concern about a colleague sent without the reporter's name, and where that is not offered.

A teacher reports line by line; the headteacher acknowledges, asks the reporter a question (the
teacher answers, and adds to it) and closes as he would. Then every table (raw, and decrypted
with the school's key), the log export, the digest, the server's log lines and what everyone
else was shown are read for any trace of who sent it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text as sql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.main import cli as safeguard
from bot.digest.weekly import IsoWeek
from dialogs.anonymity import DISCLOSURE, NOT_SET_UP, OFFERED
from storage.crypto import KeyringError
from storage.log import events_for, verify
from storage.models import AlertDelivery, Report, ReportNote
from storage.sealed_reporters import SealedReporter, relay_from_env
from tests.builders import TEST_KEY, TEST_KEYS, screenshot
from tests.integration.anonymity import RELAY, digest_text, every_row, exported, report_exported, traces
from tests.integration.console import Clock, Terminal, console_app, text

CONCERN = ["Concern about a colleague", "Tomi Okafor", "Made-up: sends pupils messages from a personal account",
           "No", "No", "No"]
WHO = ("cfinch", "Chris Finch")
QUESTION = "Which evenings were the messages sent, and to which year group? (made-up)"
ANSWER = "Tuesday and Thursday evenings, to Year 9 (made-up)."
MORE = "A pupil showed me another message this morning (made-up)."
REF = "SG-2026-0001"


async def typed(person: Terminal, lines: list[str]) -> list[str]:
    printed = []
    for line in lines:
        printed = await person.type(line)
    return printed


async def test_a_colleague_concern_sent_without_a_name_leaves_no_trace_of_who_sent_it(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # every library's lines from INFO up; ours from DEBUG
    for ours in ("bot", "storage", "dialogs", "routing"):
        caplog.set_level(logging.DEBUG, logger=ours)
    app = replace(console_app(sessions, clock), relay=RELAY)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    summary = text(await typed(teacher, CONCERN))
    assert OFFERED in summary and "Send without my name" in summary
    since_sent = len(teacher.printed)  # before it, the report's own menus list every member of staff
    sent = text(await teacher.type("Send without my name"))
    assert sent.startswith(f"Thank you. Your report {REF} has been sent to the Headteacher.")
    assert await teacher.step() is None, "the draft is gone"

    head = Terminal(app, "jellis")
    alert = text(await head.open())
    assert f"New report {REF} for you to acknowledge" in alert and "Sent without the reporter's name" in alert
    clock.advance(minutes=5)
    assert "The person who reported it has been told." in text(await head.type(f"/ack {REF}"))

    # The headteacher asks the reporter; only the reporter's own console shows it, by his role.
    clock.advance(minutes=5)
    assert text(await head.type(f"/ask {REF} {QUESTION}")).startswith(
        f"Your question was sent to the person who reported {REF}.")
    asked = text(await teacher.type("/alerts"))
    assert f"A question about your report {REF}\nThe Headteacher asks: {QUESTION}" in asked, asked
    assert "Jordan Ellis" not in asked and "jellis" not in asked and f"/answer {REF} TEXT" in asked
    # Someone else answering for the reporter is refused in one line, and logged as themselves.
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    assert text(await dsl.type(f"/answer {REF} A forged answer (made-up)")).startswith(
        "! You can't answer that question")
    clock.advance(minutes=5)
    assert text(await teacher.type(f"/answer {REF} {ANSWER}")) == (
        f"Thank you. Your answer about {REF} was sent to the people handling it.")
    # Sent again, it finds no question waiting: one answer is stored.
    assert text(await teacher.type(f"/answer {REF} {ANSWER}")) == f"No question about {REF} is waiting for your answer."
    answered = text(await head.type("/help"))
    assert f"Answer from the reporter of {REF}" in answered and f"The reporter answers: {ANSWER}" in answered
    clock.advance(minutes=5)
    assert text(await teacher.type(f"/add {REF} {MORE}")).startswith(f"Thank you. What you added to {REF} was sent")
    assert f"The reporter adds: {MORE}" in text(await head.type("/help"))
    history = text(await head.type(f"/view {REF}"))
    assert f"The reporter answered at" in history and ANSWER in history and MORE in history
    clock.advance(minutes=30)
    closed = text(await head.type(f"/close {REF} handled_in_school Made-up reason: spoken to, policy reread"))
    assert "The person who reported it has been told." in closed
    shown_to_head = [*head.printed, text(await head.type(f"/view {REF}"))]

    # The reporter still hears, through the sealed link, and follows the report as its reporter.
    news = text(await teacher.type("/alerts"))
    assert f"Your report {REF} was acknowledged by the Headteacher" in text(teacher.printed), text(teacher.printed)
    assert f"Your report {REF} was closed" in text(teacher.printed), news
    progress = text(await teacher.type(f"/view {REF}"))
    assert progress.startswith(f"Your report {REF}: closed") and "Sent to the Headteacher" in progress
    # The relay works both ways and names neither side: the reporter only ever read the owner's role.
    assert traces(teacher.printed[since_sent:], "jellis", "Jordan Ellis") == []

    # Nobody else learns anything, and a refusal names nobody.
    others = list(dsl.printed)
    for person_id in ("smorgan", "rpatel", "tokafor", "hbrooks", "dwilde"):
        other = Terminal(app, person_id)
        await other.open()
        assert (await other.type(f"/view {REF}"))[0].startswith(f"! You can't see {REF}")
        others += other.printed
    assert traces(others, QUESTION, ANSWER, MORE) == [], "the relay's words reached only the reporter and the owner"

    week = IsoWeek.of(app.today())
    # The report handed on whole (`safeguard report export`): its answer and addition, by "the reporter" alone.
    handed = await report_exported(app, "jellis", REF)
    assert ANSWER in handed and MORE in handed and traces([handed], *WHO) == []
    rows = await every_row(sessions)
    export = await exported(app, "jellis", REF, app.now()) + await exported(app, "smorgan", None, app.now())
    digest = await digest_text(app, week, ("dwilde", "hbrooks", "smorgan"))
    assert REF in export and f"{REF}" in str(rows) and "Reports" in digest, digest
    assert traces(rows, *WHO) == []
    assert traces([export, digest, *shown_to_head, *others], *WHO) == []
    assert traces([caplog.text], *WHO) == []

    async with sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert report.reporter.startswith("anonymous-") and report.channel is None
        events = await events_for(session, REF)
        assert {e.actor for e in events} <= {report.reporter, "jellis", "system", "smorgan", "rpatel", "tokafor",
                                             "hbrooks", "dwilde"}
        relayed = [(e.kind, e.actor) for e in events if e.kind.startswith("reporter_")]
        assert relayed == [("reporter_asked", "jellis"), ("reporter_answered", report.reporter),
                           ("reporter_added", report.reporter)]
        refused = [(e.actor, e.data) for e in events if e.kind == "refused"]
        assert refused[0] == ("smorgan", {"action": "answer"}), refused
        notes = [(n.kind, n.author) for n in await session.scalars(select(ReportNote).order_by(ReportNote.id))]
        assert notes == [("question", "jellis"), ("answer", report.reporter), ("addition", report.reporter)]
        told = [(d.person_id, d.kind, d.external_ref) for d in await session.scalars(
            select(AlertDelivery).where(AlertDelivery.person_id == report.reporter).order_by(AlertDelivery.id))]
        assert told == [(report.reporter, "receipt", None), (report.reporter, "acknowledged", None),
                        (report.reporter, "question", None), (report.reporter, "closed", None)]
        assert (await session.scalars(select(SealedReporter.handle))).all() == [report.reporter]
        assert (await verify(session)).ok


async def test_a_report_sent_with_a_name_is_as_before(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    app = replace(console_app(sessions, clock), relay=RELAY)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    await typed(teacher, CONCERN)
    assert text(await teacher.type("Send")).startswith(f"Thank you. Your report {REF} has been sent to the Headteacher.")
    head = Terminal(app, "jellis")
    assert "Reported by Chris Finch at" in text(await head.open())
    async with sessions() as session:
        report = (await session.scalars(select(Report))).one()
        assert (report.reporter, report.channel) == ("cfinch", "console")
        assert (await session.scalars(select(SealedReporter))).all() == []
        assert [e.actor for e in await events_for(session, REF) if e.kind == "created"] == ["cfinch"]


async def test_a_pupils_disclosure_is_never_sent_without_a_name(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = replace(console_app(sessions, clock), relay=RELAY)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    summary = text(await typed(teacher, ["Pupil disclosure", "No", "The child is the victim", "Leo Marsh", "Skip",
                                         "He said a made-up thing", "No", "In class", "No", "No"]))
    assert "Please check your report" in summary and "Send without my name" not in summary
    refused = await teacher.type("Send without my name")
    assert refused[0] == f"! {DISCLOSURE}"
    assert "Please check your report" in refused[1], "the summary again, nothing sent"
    async with sessions() as session:
        assert (await session.scalars(select(Report))).all() == []


async def test_without_a_relay_key_it_is_not_offered_and_the_summary_says_why(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)  # no SAFEGUARD_RELAY_KEY
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    summary = text(await typed(teacher, CONCERN))
    assert NOT_SET_UP in summary and "Send without my name" not in summary
    refused = await teacher.type("send without my name")
    assert refused[0] == f"! {NOT_SET_UP}"
    async with sessions() as session:
        assert (await session.scalars(select(Report))).all() == []


def test_the_relay_key_is_made_by_a_command_and_kept_apart_from_the_encryption_key() -> None:
    made = CliRunner().invoke(safeguard, ["keys", "relay"])
    assert made.exit_code == 0 and relay_from_env({"SAFEGUARD_RELAY_KEY": made.output.strip()}) is not None
    with pytest.raises(KeyringError, match="must be a different key"):
        relay_from_env({"SAFEGUARD_RELAY_KEY": TEST_KEY}, TEST_KEYS)
    with pytest.raises(KeyringError, match="not a Fernet key"):
        relay_from_env({"SAFEGUARD_RELAY_KEY": "not-a-key"})


async def test_misuse_by_a_member_of_staff_with_a_screenshot_goes_without_a_name_too(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path
) -> None:
    app = replace(console_app(sessions, clock), relay=RELAY)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    asked = text(await typed(teacher, ["Social media misuse", "A member of staff", "Tomi Okafor", "Instagram",
                                       "Made-up: posted pupils' photos on a personal account", "No", "No", "No"]))
    assert "Send any screenshots now" in asked
    picture = tmp_path / "IMG_2041.png"
    picture.write_bytes(screenshot())
    assert "Screenshot 1 received." in text(await teacher.type(f"/attach {picture}"))
    summary = text(await teacher.type("Done"))
    assert OFFERED in summary and "Screenshots: 1" in summary
    assert text(await teacher.type("Send without my name")).startswith(f"Thank you. Your report {REF} has been sent")
    async with sessions() as session:
        report = (await session.scalars(select(Report))).one()
        attached = [e.actor for e in await events_for(session, REF) if e.kind == "evidence_attached"]
    assert report.screenshots == 1 and attached == [report.reporter]
    assert traces(await every_row(sessions), *WHO) == []


async def test_when_the_sealed_links_cannot_be_read_the_servers_lines_still_name_nobody(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # every library's lines from INFO up; ours from DEBUG
    for ours in ("bot", "storage", "dialogs", "routing"):
        caplog.set_level(logging.DEBUG, logger=ours)
    app = replace(console_app(sessions, clock), relay=RELAY)
    teacher, head = Terminal(app, "cfinch"), Terminal(app, "jellis")
    await teacher.open()
    await typed(teacher, CONCERN)
    await teacher.type("Send without my name")
    await head.open()
    await head.type(f"/ask {REF} {QUESTION}")
    async with sessions.begin() as session:  # a broken database: the table of sealed links is gone
        await session.execute(sql('ALTER TABLE sealed_reporters RENAME TO sealed_reporters_gone'))
    caplog.clear()
    for line in (f"/view {REF}", f"/answer {REF} {ANSWER}", f"/add {REF} {MORE}", "/alerts"):
        await teacher.type(line)
    assert "cannot reach its database" in text(teacher.printed[-8:]), teacher.printed[-8:]
    assert any(r.levelno >= logging.ERROR for r in caplog.records), "the failures are in the server's log"
    assert traces([f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records], *WHO) == [], [
        r.getMessage() for r in caplog.records if traces([f"{r.getMessage()} {r.exc_text or ''}"], *WHO)]
    async with sessions.begin() as session:
        await session.execute(sql('ALTER TABLE sealed_reporters_gone RENAME TO sealed_reporters'))
