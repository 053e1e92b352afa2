"""Reports sent in the same instant: stored together, routed together, each alerted once, none lost.

Staff at the console walk a disclosure to its summary, then all choose Send at once. Each test
runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. A report refused by the database is
made so with a trigger, as a database that turns one row away would: nothing of ours is replaced.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.log import verify
from storage.models import AlertDelivery, Report, RoutingDecision
from tests.integration.console import Clock, Terminal, console_app, text
from tests.integration.test_console import DISCLOSURE

# Everyone at the example school but the DSL (a disclosure goes to the DSL, never about or by themself).
REPORTERS = ("cfinch", "jellis", "rpatel", "tokafor", "hbrooks", "dwilde")
REFUSED = "dwilde"  # the reporter whose report (or its routing) the database turns away


async def at_summary(terminals: list[Terminal]) -> None:
    """Each person walks a disclosure to the summary, one after another."""
    for terminal in terminals:
        await terminal.open()
        for line in [*DISCLOSURE, "No", "In class", "No", "No"]:
            await terminal.type(line)
        assert await terminal.step() == "summary", terminal.person_id


async def send_together(terminals: list[Terminal]) -> dict[str, str]:
    """All choose Send in the same instant; what each was told."""
    told = await asyncio.gather(*(terminal.type("Send") for terminal in terminals))
    return {terminal.person_id: text(printed) for terminal, printed in zip(terminals, told)}


@contextmanager
def transactions_writing(engine: AsyncEngine, table: str) -> Iterator[list[int]]:
    """Count the committed transactions that inserted into `table`: one entry per commit, how many rows."""
    committed: list[int] = []
    pending: Counter[int] = Counter()

    def executed(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            pending[id(conn.connection.dbapi_connection)] += 1

    def commit(conn: Any) -> None:
        rows = pending.pop(id(conn.connection.dbapi_connection), 0)
        if rows:
            committed.append(rows)

    def rollback(conn: Any) -> None:
        pending.pop(id(conn.connection.dbapi_connection), None)

    listeners = (("after_cursor_execute", executed), ("commit", commit), ("rollback", rollback))
    for name, listener in listeners:
        event.listen(engine.sync_engine, name, listener)
    try:
        yield committed
    finally:
        for name, listener in listeners:
            event.remove(engine.sync_engine, name, listener)


async def alerts_per_report(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Counter[tuple[str, str]]]:
    """For each report, its queued notices counted by (person, kind)."""
    async with sessions() as session:
        rows = (await session.execute(
            select(Report.reporter, AlertDelivery.person_id, AlertDelivery.kind)
            .join(AlertDelivery, AlertDelivery.report_id == Report.id)
        )).all()
    found: dict[str, Counter[tuple[str, str]]] = {}
    for reporter, person, kind in rows:
        found.setdefault(reporter, Counter())[(person, kind)] += 1
    return found


async def refuse(engine: AsyncEngine, table: str, condition_sqlite: str, condition_pg: str) -> None:
    """A trigger that makes the database turn away rows of `table` meeting the condition."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql(
                "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {condition_pg} THEN RAISE EXCEPTION 'refused (a test)'; END IF; RETURN NEW; END $$")
            await connection.exec_driver_sql(
                f"CREATE TRIGGER refuse_one BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_one()")
        else:
            await connection.exec_driver_sql(
                f"CREATE TRIGGER refuse_one BEFORE INSERT ON {table} WHEN {condition_sqlite} "
                "BEGIN SELECT RAISE(ABORT, 'refused (a test)'); END")


async def test_reports_sent_at_once_share_transactions_and_each_is_alerted_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    terminals = [Terminal(app, person) for person in REPORTERS]
    await at_summary(terminals)

    with transactions_writing(engine, "reports") as stored, transactions_writing(engine, "routing_decisions") as routed:
        told = await send_together(terminals)

    for person, said in told.items():
        assert "has been sent to the Designated safeguarding lead (DSL)" in said, (person, said)
    # Stored and routed in fewer transactions than there were reports: they went together.
    assert sum(stored) == sum(routed) == len(REPORTERS)
    assert len(stored) < len(REPORTERS) and len(routed) < len(REPORTERS), (stored, routed)
    notices = await alerts_per_report(sessions)
    assert set(notices) == set(REPORTERS)
    for person, queued in notices.items():
        assert queued[("smorgan", "alert")] == 1, (person, queued)  # the DSL alerted once
        assert queued[(person, "receipt")] == 1, (person, queued)  # the reporter told once
    async with sessions() as session:
        references = list(await session.scalars(select(Report.reference).order_by(Report.id)))
        assert (await verify(session)).ok
    assert len(set(references)) == len(REPORTERS)


async def test_one_report_the_database_refuses_loses_none_of_the_others_sent_with_it(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    terminals = [Terminal(app, person) for person in REPORTERS]
    await at_summary(terminals)
    await refuse(engine, "reports", f"NEW.reporter = '{REFUSED}'", f"NEW.reporter = '{REFUSED}'")

    told = await send_together(terminals)

    assert "could not be saved, so it has NOT been sent" in told[REFUSED]
    for person in REPORTERS:
        if person != REFUSED:
            assert "has been sent to the Designated safeguarding lead (DSL)" in told[person], (person, told[person])
    async with sessions() as session:
        stored = set(await session.scalars(select(Report.reporter)))
        assert (await verify(session)).ok
    assert stored == set(REPORTERS) - {REFUSED}
    notices = await alerts_per_report(sessions)
    assert all(queued[("smorgan", "alert")] == 1 for queued in notices.values()), notices
    # The refused reporter's answers are kept: Send again once the database takes it, and it goes.
    refused = next(t for t in terminals if t.person_id == REFUSED)
    assert await refused.step() == "summary"
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP TRIGGER refuse_one" + (" ON reports" if connection.dialect.name ==
                                                                      "postgresql" else ""))
    assert "has been sent to the Designated safeguarding lead (DSL)" in text(await refused.type("Send"))


async def test_one_report_that_cannot_be_routed_is_kept_and_the_others_sent_with_it_are_routed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    app = console_app(sessions, clock)
    terminals = [Terminal(app, person) for person in REPORTERS]
    await at_summary(terminals)
    await refuse(engine, "routing_decisions",
                 f"(SELECT reporter FROM reports WHERE id = NEW.report_id) = '{REFUSED}'",
                 f"(SELECT reporter FROM reports WHERE id = NEW.report_id) = '{REFUSED}'")

    told = await send_together(terminals)

    assert "is saved, but it could not be passed on just now" in told[REFUSED]
    for person in REPORTERS:
        if person != REFUSED:
            assert "has been sent to the Designated safeguarding lead (DSL)" in told[person], (person, told[person])
    async with sessions() as session:
        stored = set(await session.scalars(select(Report.reporter)))
        routed = set(await session.scalars(
            select(Report.reporter).join(RoutingDecision, RoutingDecision.report_id == Report.id)))
        assert await session.scalar(select(func.count()).select_from(AlertDelivery)) == 2 * (len(REPORTERS) - 1)
        assert (await verify(session)).ok
    assert stored == set(REPORTERS)  # the report that could not be routed is kept
    assert routed == set(REPORTERS) - {REFUSED}


async def test_one_person_sending_from_two_places_at_once_stores_one_report(
        sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """A double tap that reached two servers (no lock in memory in common): the draft ends once, so one report."""
    app = console_app(sessions, clock)
    here, there = Terminal(app, "cfinch"), Terminal(app, "cfinch")
    await at_summary([here])
    told = text([text(printed) for printed in await asyncio.gather(here.type("Send"), there.type("Send"))])
    assert told.count("That report was already sent. To report something else, send me any message.") == 1
    assert told.count("Your report SG-2026-0001 has been sent to") == 1  # one receipt, on whichever screen
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).select_from(RoutingDecision)) == 1
        assert (await verify(session)).ok
