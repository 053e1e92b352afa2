"""Migrations: from nothing to head, idempotent, safe when two start at once, and matching the models."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import create_engine, sessionmaker
from storage.inbound import forget_inbound
from storage.log import GENESIS_HASH
from storage.migrate import MIGRATIONS, config, current, head, upgrade
from storage.models import Base, LogHead
from storage.reports import next_reference
from storage.slack_tables import BOTS, INSTALLATIONS, OAUTH_STATES, TOKEN_COLUMNS, slack_metadata, with_slack_tables


def differences(connection: Connection) -> list[object]:
    """What differs between the database and our models plus slack_sdk's own installation tables."""
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    return list(compare_metadata(context, with_slack_tables(Base.metadata)))


def described(metadata: MetaData) -> dict[str, object]:
    """Each table's columns (name, type, nullable, key, default) and indexes, as text to compare."""
    return {
        table.name: ([(c.name, repr(c.type), c.nullable, c.primary_key, str(getattr(c.default, "arg", None)))
                      for c in table.columns],
                     sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes))
        for table in metadata.tables.values()
    }


@asynccontextmanager
async def upgraded_from(database_url: str, revision: str, *statements: str) -> AsyncIterator[AsyncEngine]:
    """A database at `revision` holding what `statements` write there, then upgraded to head: its engine."""
    engine = create_engine(database_url, keys=None)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(config(sync), revision))
            for statement in statements:
                await connection.exec_driver_sql(statement)
            await connection.commit()
        await upgrade(database_url)
        yield engine
    finally:
        await engine.dispose()


def test_the_slack_tables_are_slack_sdks_own() -> None:
    """slack_sdk's stores read and write the tables migration 0011 creates: its builders make the same."""
    theirs = MetaData()
    AsyncSQLAlchemyInstallationStore.build_installations_table(theirs, INSTALLATIONS)
    AsyncSQLAlchemyInstallationStore.build_bots_table(theirs, BOTS)
    AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, OAUTH_STATES)
    assert described(slack_metadata(sealed=False)) == described(theirs)
    # Ours differ only where the tokens are kept encrypted, in longer columns (migration 0018).
    ours, builders = described(slack_metadata()), described(theirs)
    for name, (columns, indexes) in ours.items():
        assert indexes == builders[name][1]
        assert [c for c in columns if c[0] not in TOKEN_COLUMNS] == [c for c in builders[name][0] if c[0] not in TOKEN_COLUMNS]
        assert {c[1] for c in columns if c[0] in TOKEN_COLUMNS} <= {"Text()"}
    assert AsyncSQLAlchemyInstallationStore.default_bots_table_name == BOTS
    assert AsyncSQLAlchemyInstallationStore.default_installations_table_name == INSTALLATIONS
    assert AsyncSQLAlchemyOAuthStateStore.default_table_name == OAUTH_STATES


async def test_a_new_database_has_no_revision_then_head(database_url: str) -> None:
    assert await current(database_url) is None
    await upgrade(database_url)
    assert await current(database_url) == head() == "0019"


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)
    await upgrade(database_url)
    assert await current(database_url) == head()
    engine = create_engine(database_url, keys=None)
    try:
        async with engine.connect() as connection:
            heads = (await connection.execute(select(LogHead.chain, LogHead.seq, LogHead.hash))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in heads] == [("", 0, GENESIS_HASH)]


async def test_two_processes_starting_together_both_succeed(database_url: str) -> None:
    await asyncio.gather(*(upgrade(database_url) for _ in range(3)))
    assert await current(database_url) == head()


async def test_upgrade_needs_no_alembic_ini_in_the_working_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await upgrade(database_url)
    assert await current(database_url) == head()


async def test_the_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_migration_creates_every_table_and_downgrades_to_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert set(Base.metadata.tables) | {BOTS, INSTALLATIONS, OAUTH_STATES} <= tables
        await connection.run_sync(lambda sync: command.downgrade(config(sync), "base"))
        left = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert left & (set(Base.metadata.tables) | {BOTS, INSTALLATIONS, OAUTH_STATES}) == set()
        await connection.run_sync(lambda sync: command.upgrade(config(sync), "head"))
        count = (await connection.execute(select(func.count()).select_from(LogHead))).scalar_one()
        assert count == 1
        assert await connection.run_sync(differences) == []
        await connection.commit()


async def test_the_alembic_command_line_finds_nothing_to_generate(engine: AsyncEngine, database_url: str) -> None:
    # The developer's route (storage/migrations/alembic.ini) reaches the same schema and models.
    command_line = [sys.executable, "-m", "alembic", "-c", str(MIGRATIONS / "alembic.ini"), "-x", f"url={database_url}", "check"]
    done = await asyncio.to_thread(subprocess.run, command_line, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "No new upgrade operations detected" in done.stdout + done.stderr


async def test_upgrading_from_0001_keeps_queued_alerts_as_alerts(database_url: str) -> None:
    async with upgraded_from(
        database_url, "0001",
        "INSERT INTO reports (id, reference, school, category, subject, flags, allegation, details, reporter, status, created_at) "
        "VALUES (1, 'SG-2026-0001', 'Test School', 'misuse', 'pupil', '[]', false, '{}', 'staff1', 'open', '2026-11-20 09:00:00+00:00')",
        "INSERT INTO alert_deliveries (report_id, person_id, channel, status, attempts, queued_at) "
        "VALUES (1, 'head1', 'slack', 'queued', 0, '2026-11-20 09:00:01+00:00')",
    ) as engine, engine.connect() as connection:
        rows = (await connection.exec_driver_sql("SELECT person_id, channel, kind, status FROM alert_deliveries")).all()
        assert [tuple(row) for row in rows] == [("head1", "slack", "alert", "queued")]
        channel = (await connection.exec_driver_sql("SELECT channel FROM reports")).scalar_one()
        assert channel is None


async def test_upgrading_from_0003_keeps_alerts_and_sets_the_next_escalation_of_open_reports(database_url: str) -> None:
    engine = create_engine(database_url, keys=None)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(config(sync), "0003"))
            for ident, status, acknowledged in ((1, "open", "NULL"), (2, "acknowledged", "'2026-11-20 09:10:00+00:00'")):
                await connection.exec_driver_sql(
                    "INSERT INTO reports (id, reference, school, category, subject, flags, allegation, details, reporter, "
                    "status, created_at, ack_deadline, acknowledged_at) VALUES "
                    f"({ident}, 'SG-2026-000{ident}', 'Test School', 'misuse', 'pupil', '[]', false, '{{}}', 'staff1', "
                    f"'{status}', '2026-11-20 09:00:00+00:00', '2026-11-20 10:00:00+00:00', {acknowledged})"
                )
            await connection.exec_driver_sql(
                "INSERT INTO alert_deliveries (report_id, person_id, channel, kind, status, attempts, queued_at) "
                "VALUES (1, 'head1', 'slack', 'alert', 'queued', 0, '2026-11-20 09:00:01+00:00')"
            )
            await connection.commit()
        await upgrade(database_url)
        async with engine.connect() as connection:
            rows = (await connection.exec_driver_sql(
                "SELECT person_id, kind, round, status FROM alert_deliveries")).all()
            assert [tuple(row) for row in rows] == [("head1", "alert", 0, "queued")]
            due = (await connection.exec_driver_sql(
                "SELECT reference, next_escalation_at IS NOT NULL, escalation_step FROM reports ORDER BY id")).all()
            assert [tuple(row) for row in due] == [("SG-2026-0001", True, 0), ("SG-2026-0002", False, 0)]
    finally:
        await engine.dispose()


async def test_upgrading_from_0005_keeps_every_report_s_category_and_gives_none_a_target(database_url: str) -> None:
    engine = create_engine(database_url, keys=None)
    categories = ("misuse", "friend_request", "inappropriate_content", "colleague_concern", "pupil_disclosure")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(config(sync), "0005"))
            for ident, category in enumerate(categories, start=1):
                await connection.exec_driver_sql(
                    "INSERT INTO reports (id, reference, school, category, subject, flags, allegation, details, reporter, "
                    f"status, created_at) VALUES ({ident}, 'SG-2026-000{ident}', 'Test School', '{category}', 'pupil', "
                    "'[]', false, '{}', 'staff1', 'open', '2026-11-20 09:00:00+00:00')"
                )
            await connection.commit()
        await upgrade(database_url)
        async with engine.connect() as connection:
            rows = (await connection.exec_driver_sql("SELECT category, target FROM reports ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [(category, None) for category in categories]
            # A cyberbullying report says who was bullied; going back to 0005 drops only that.
            await connection.exec_driver_sql(
                "INSERT INTO reports (id, reference, school, category, subject, target, flags, allegation, details, "
                "reporter, status, created_at) VALUES (9, 'SG-2026-0009', 'Test School', 'cyberbullying', 'parent', "
                "'staff', '[]', false, '{}', 'staff1', 'open', '2026-11-20 09:00:00+00:00')"
            )
            await connection.commit()
            await connection.run_sync(lambda sync: command.downgrade(config(sync), "0005"))
            await connection.commit()
            kept = (await connection.exec_driver_sql("SELECT category FROM reports ORDER BY id")).scalars().all()
            assert kept == [*categories, "cyberbullying"]
    finally:
        await engine.dispose()


async def test_upgrading_from_0006_gives_every_report_no_screenshots(database_url: str) -> None:
    async with upgraded_from(
        database_url, "0006",
        "INSERT INTO reports (id, reference, school, category, subject, flags, allegation, details, reporter, "
        "status, created_at) VALUES (1, 'SG-2026-0001', 'Test School', 'misuse', 'pupil', '[]', false, '{}', "
        "'staff1', 'open', '2026-11-20 09:00:00+00:00')",
    ) as engine, engine.connect() as connection:
        rows = (await connection.exec_driver_sql("SELECT reference, screenshots FROM reports")).all()
        assert [tuple(row) for row in rows] == [("SG-2026-0001", 0)]
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert {"draft_evidence", "report_evidence"} <= tables


async def test_upgrading_from_0008_keeps_the_year_s_count_under_sg_and_numbers_each_trust_school_apart(
    database_url: str,
) -> None:
    async with upgraded_from(database_url, "0008", "INSERT INTO report_counters (year, last) VALUES (2026, 41)") as engine, \
            AsyncSession(engine) as session, session.begin():
        assert await next_reference(session, year=2026) == "SG-2026-0042"
        assert await next_reference(session, year=2026, prefix="SG-BPA") == "SG-BPA-2026-0001"
        assert await next_reference(session, year=2026, prefix="SG-OAK") == "SG-OAK-2026-0001"
        assert await next_reference(session, year=2026, prefix="SG-BPA") == "SG-BPA-2026-0002"


async def test_upgrading_from_0008_puts_the_log_in_the_default_chain_and_it_still_verifies(database_url: str) -> None:
    from datetime import UTC, datetime

    from storage.db import sessionmaker
    from storage.log import event_hash, verify

    engine = create_engine(database_url, keys=None)
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(config(sync), "0008"))
            prev = GENESIS_HASH
            for seq in (1, 2):
                digest = event_hash(prev, seq=seq, at=at, actor="system", kind="keys_rotated", report=None, data={})
                await connection.exec_driver_sql(
                    "INSERT INTO events (seq, at, actor, kind, report_ref, data, prev_hash, hash) VALUES "
                    f"({seq}, '2026-11-20 09:00:00.000000+00:00', 'system', 'keys_rotated', NULL, '{{}}', '{prev}', '{digest}')")
                prev = digest
            await connection.exec_driver_sql(f"UPDATE log_head SET seq = 2, hash = '{prev}'")
            await connection.commit()
        await upgrade(database_url)
        async with engine.connect() as connection:
            rows = (await connection.exec_driver_sql("SELECT chain, seq FROM events ORDER BY seq")).all()
            assert [tuple(row) for row in rows] == [("", 1), ("", 2)]
            heads = (await connection.execute(select(LogHead.chain, LogHead.seq, LogHead.hash))).all()
            assert [tuple(row) for row in heads] == [("", 2, prev)]
        async with sessionmaker(engine)() as session:
            result = await verify(session)
        assert (result.ok, result.checked) == (True, 2)
        async with engine.connect() as connection:
            # The guard came through the copy SQLite makes of the table.
            with pytest.raises(DBAPIError, match="the event log is append-only"):
                await connection.exec_driver_sql("UPDATE events SET actor = 'x'")
    finally:
        await engine.dispose()


async def test_upgrading_to_0019_dates_the_event_ids_already_kept_so_none_is_forgotten_at_once(database_url: str) -> None:
    async with upgraded_from(database_url, "0018",
                             "INSERT INTO inbound_events (channel, event_id) VALUES ('slack', 'Ev0BEFORE')") as engine, \
            sessionmaker(engine).begin() as session:
        assert await forget_inbound(session, now=datetime.now(UTC)) == 0  # dated now: kept a day
        assert await forget_inbound(session, now=datetime.now(UTC) + timedelta(days=1, minutes=1)) == 1
