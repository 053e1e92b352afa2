"""`safeguard log verify` catches approval requests' rows edited behind the log's back (issue 22).

The store is made at the console as people would: Chris Finch asks twice to unblock a site;
AR-2026-0001 is passed on by the officer, approved by the headteacher after a reminder, and
recorded as done by the officer; AR-2026-0002 is refused by the officer. Each test then
edits, deletes or adds a row in SQL, as an admin with database access could, and runs the
command.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Executable, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cases.requests import remind_due
from bot.cli.main import cli
from storage.models import ApprovalRequest
from tests.builders import TEST_KEY, Clock
from tests.integration.console import Terminal, console_app
from tests.integration.helpers import unguarded
from tests.integration.test_console_unblock import ask

FIRST, SECOND = "AR-2026-0001", "AR-2026-0002"


async def journey(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """The two requests above, through the console."""
    app = console_app(sessions, clock)
    teacher, officer, head = Terminal(app, "cfinch"), Terminal(app, "tokafor"), Terminal(app, "jellis")
    assert (await ask(teacher))[0].startswith(f"Sent as {FIRST}")
    await officer.open()
    assert (await officer.type(f"/pass {FIRST}"))[0].startswith("Passed on")
    clock.advance(days=3)
    assert await remind_due(app) == 1
    await head.open()
    assert (await head.type(f"/approve {FIRST} Fieldwork need (made-up)."))[0].startswith("Approved")
    assert (await officer.type(f"/unblocked {FIRST}"))[0].startswith("Recorded")
    await teacher.type("/unblock")
    for answer in ("https://www.example.org/maps", "Maps (made-up)", "Geography (made-up)", "None (made-up)", "Send"):
        sent = await teacher.type(answer)
    assert sent[0].startswith(f"Sent as {SECOND}")
    assert (await officer.type(f"/refuse {SECOND} Gambling adverts (made-up)."))[0].startswith("Refused")


async def log_verify(database_url: str) -> Result:
    """`safeguard log verify`, as an admin runs it (on a thread: the command calls asyncio.run)."""
    return await asyncio.to_thread(CliRunner().invoke, cli, ["log", "verify", "--database-url", database_url],
                                   env={"SAFEGUARD_ENCRYPTION_KEY": TEST_KEY})


def request(ref: str, **values: Any) -> Executable:
    return update(ApprovalRequest).where(ApprovalRequest.reference == ref).values(**values)


async def test_a_full_request_journey_verifies(database_url: str, sessions: async_sessionmaker[AsyncSession],
                                               clock: Clock) -> None:
    await journey(sessions, clock)
    verified = await log_verify(database_url)
    assert (verified.exit_code, verified.output.startswith("ok: ")) == (0, True), verified.output


EDITS: dict[str, tuple[Executable, str]] = {
    "a refusal made an approval": (
        request(SECOND, status="approved"),
        f"request {SECOND} was edited: its status is 'approved' but the log makes it 'refused'"),
    "someone added to who may see it": (
        request(SECOND, approvers=["tokafor", "smorgan"]),
        f"request {SECOND} was edited: who it was routed to no longer matches the log"),
    "moved on a step": (
        request(SECOND, step=1),
        f"request {SECOND} was edited: it is at step 2, but the log passed it on 0 time(s)"),
    "the answers": (
        request(FIRST, answers={"url": "https://www.example.org/other", "content": "Other (made-up)"}),
        f"request {FIRST} was edited: its answers no longer match their digest in event"),
    "the reasons": (
        request(FIRST, reasons="A different made-up reason"),
        f"request {FIRST} was edited: who decided it, when or the reasons no longer match event"),
    "who decided": (
        request(FIRST, decided_by="smorgan"),
        f"request {FIRST} was edited: who decided it, when or the reasons no longer match event"),
    "who made it": (
        request(SECOND, requester="smorgan"),
        f"request {SECOND} was edited: who made it, when or its kind no longer match event"),
    "carried out undone": (
        request(FIRST, done_at=None, done_by=None),
        f"request {FIRST} was edited: who carried it out and when no longer match event"),
    "the reminders": (
        request(FIRST, reminders=0),
        f"request {FIRST} was edited: it counts 0 reminder(s) at its step, but the log has 1"),
    "decided though still open": (
        request(SECOND, status="open", decided_at=None, decided_by=None, reasons=None),
        f"request {SECOND} was edited: its status is 'open' but the log makes it 'refused'"),
    "deleted": (
        delete(ApprovalRequest).where(ApprovalRequest.reference == SECOND),
        f"request {SECOND} is missing from the requests table, so it was deleted"),
}


@pytest.mark.parametrize("edit", list(EDITS))
async def test_an_edited_or_deleted_request_is_named(
    edit: str, database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await journey(sessions, clock)
    change, said = EDITS[edit]
    await unguarded(engine, change)
    found = await log_verify(database_url)
    assert found.exit_code == 1, found.output
    assert found.output.startswith(said) and found.output.count("\n") == 1, found.output


async def test_a_request_added_outside_safeguard_is_named(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await journey(sessions, clock)
    async with sessions() as session:
        row = (await session.execute(select(ApprovalRequest).where(ApprovalRequest.reference == SECOND))).scalar_one()
        copy = {c.key: getattr(row, c.key) for c in ApprovalRequest.__mapper__.column_attrs if c.key != "id"}
    await unguarded(engine, insert(ApprovalRequest).values({**copy, "reference": "AR-2026-0009"}))
    found = await log_verify(database_url)
    assert (found.exit_code, found.output) == (
        1, "request AR-2026-0009 has no request_made event in the log, so it was added outside Safeguard\n")
