"""Encryption at rest: what staff write cannot be read from the database itself, moves to a new key, and
is refused, in one line, to anyone without the key.

Each test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. The data is made the way staff
make it (at the console); the database is then read as someone with a copy of it would read it:
plain SQL, no decrypting column types.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import JSON, Text, literal, select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli.main import cli
from storage.conversation_refs import load_reference, save_reference
from storage.crypto import Keyring, KeyringError, fingerprint, new_key, parse_keys
from storage.db import create_engine, sessionmaker
from storage.drafts import load_draft, save_draft
from storage.encrypted import NoKeyring
from storage.log import events_for, verify
from storage.models import Base, Draft, Event
from storage.reports import get_report, notes_for
from storage.rotation import unlock
from storage.sealed import ENCRYPTED
from tests.builders import TEST_KEY, TEST_KEYS
from tests.integration.console import Clock, Terminal, console_app

# A made-up name nobody types by chance: if it shows in the raw database, something was stored in clear.
PHRASE = "Quillon Marchbank-Oyelaran"
REF = "SG-2026-0001"
SCRIPT = Path(sys.executable).parent / "safeguard"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]
# The planted values: the report's details, its note, its closing reason, a half-typed draft, a Teams reference.
PLANTED = 7  # and the child the teacher named: the pupil's name and year group (typed: no roster id)


async def plant(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    """A teacher reports with the phrase in the child's words, the DSL notes and closes it, a deputy leaves a draft."""
    app = console_app(sessions, clock)
    teacher = Terminal(app, "cfinch")
    await teacher.open()
    for line in ["Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip",
                 f"He said {PHRASE} keeps asking him for photos (made up)", "No", "With me", "No", "No", "Send"]:
        await teacher.type(line)
    dsl = Terminal(app, "smorgan")
    await dsl.open()
    await dsl.type(f"/ack {REF}")
    await dsl.type(f"/note {REF} Rang the parents about {PHRASE} (made up)")
    assert "closed" in (await dsl.type(f"/close {REF} handled_in_school Spoke to {PHRASE}'s parents (made up)"))[0]
    deputy = Terminal(app, "rpatel")
    await deputy.open()
    for line in ["Pupil disclosure", "No", "The child is the victim", "Mia Hart", "Skip",
                 f"{PHRASE} told me something (made up)"]:
        await deputy.type(line)
    async with sessions.begin() as session:
        await save_reference(session, now=clock(), channel="teams", person_id="jellis",
                             reference={"user": {"id": "29:1jellis", "name": PHRASE}, "conversation": {"id": "a:1"}})


async def raw_database(engine: AsyncEngine) -> str:
    """Every value of every table as the database holds it, read with plain SQL."""
    values = []
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in (await connection.exec_driver_sql(f"SELECT * FROM {table.name}")).all():
                values += [str(value) for value in row]
    return "\n".join(values)


async def readable(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """What the planted values read back as, through the application's own queries."""
    async with sessions() as session:
        report = await get_report(session, REF)
        assert report is not None
        notes = await notes_for(session, report)
        draft = await load_draft(session, channel="console", user_id="rpatel")
        reference = await load_reference(session, channel="teams", person_id="jellis")
    assert draft is not None and reference is not None
    return [str(report.details), report.close_reason or "", notes[0].text, str(draft), str(reference)]


def engine_with(url: str, keys: Keyring | None) -> AsyncEngine:
    return create_engine(url, keys=keys)


async def invoke(*args: str, key: str | None) -> Result:
    """Run `safeguard ...` in this process (on a thread: it calls asyncio.run) with SAFEGUARD_ENCRYPTION_KEY = key."""
    env = {"SAFEGUARD_ENCRYPTION_KEY": key or ""}
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


def safeguard(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
    """Run the installed `safeguard` command, as an admin at a shell would."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SAFEGUARD_ENCRYPTION_KEY")}
    if key is not None:
        env["SAFEGUARD_ENCRYPTION_KEY"] = key
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**env, "PYTHONWARNINGS": "ignore"})


async def test_what_staff_wrote_is_not_in_the_database(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str
) -> None:
    await plant(sessions, clock)
    raw = await raw_database(engine)
    assert PHRASE not in raw
    assert PHRASE.encode("utf-8").hex() not in raw  # not even as bytes a driver printed in hex
    assert raw.count("gAAAAA") == PLANTED, "each planted value is one Fernet token"
    if database_url.startswith("sqlite"):
        await engine.dispose()
        stored = Path(database_url.split("///", 1)[1]).read_bytes()
        assert PHRASE.encode("utf-8") not in stored, "the file itself, as `strings safeguard.db` would show it"
    assert all(PHRASE in value for value in await readable(sessions))
    async with sessions() as session:
        assert (await verify(session)).ok, "the log's digests are of the words, so they still match"


async def test_the_log_keeps_digests_of_the_words_never_the_words(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await plant(sessions, clock)
    async with sessions() as session:
        events = await events_for(session, REF)
    assert [e.kind for e in events if e.kind in ("created", "note_added", "closed")] == ["created", "note_added", "closed"]
    assert all(PHRASE not in str(e.data) for e in events)


async def test_rotating_to_a_new_key_leaves_everything_readable_with_it_alone(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str
) -> None:
    await plant(sessions, clock)  # under the test key: the old key, from here on
    new = new_key()
    before = await raw_database(engine_with_keys := engine_with(database_url, None))
    await engine_with_keys.dispose()

    rotated = await invoke("keys", "rotate", "--database-url", database_url, key=f"{new},{TEST_KEY}")
    assert rotated.exit_code == 0, rotated.output
    new_fingerprint = fingerprint(new.encode())
    assert f"{PLANTED} value(s) re-encrypted under key {new_fingerprint}, 0 stored before encryption at rest " \
           "encrypted, 0 already under it." in rotated.output
    assert "remove the 1 older key(s) from SAFEGUARD_ENCRYPTION_KEY" in rotated.output

    only_new = engine_with(database_url, parse_keys(new))
    only_old = engine_with(database_url, TEST_KEYS)
    try:
        assert all(PHRASE in value for value in await readable(sessionmaker(only_new)))
        after = await raw_database(only_new)
        assert PHRASE not in after and after != before
        with pytest.raises(KeyringError, match="cannot be decrypted with the test key"):
            await readable(sessionmaker(only_old))
        async with sessionmaker(only_new)() as session:
            assert (await verify(session)).ok
            last = (await session.scalars(select(Event).order_by(Event.seq.desc()).limit(1))).one()
        assert (last.kind, last.report_ref, last.data) == ("keys_rotated", None, {
            "key": new_fingerprint, "reencrypted": PLANTED, "encrypted": 0, "unchanged": 0, "changed_meanwhile": 0})
    finally:
        await only_new.dispose()
        await only_old.dispose()

    verified = await invoke("log", "verify", "--database-url", database_url, key=new)
    assert verified.exit_code == 0 and verified.output.startswith("ok: ")
    refused = await invoke("log", "verify", "--database-url", database_url, key=TEST_KEY)
    assert isinstance(refused.exception, KeyringError)
    assert str(refused.exception).startswith("the database's newest reports.details cannot be decrypted with "
                                             "SAFEGUARD_ENCRYPTION_KEY")
    again = await invoke("keys", "rotate", "--database-url", database_url, key=f"{new},{TEST_KEY}")
    assert again.exit_code == 0, again.output
    assert f"0 value(s) re-encrypted under key {new_fingerprint}, 0 stored before encryption at rest encrypted, " \
           f"{PLANTED} already under it." in again.output, "a second run changes nothing"


async def test_a_wrong_or_malformed_key_is_one_line_and_exit_2(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str
) -> None:
    await plant(sessions, clock)
    other = new_key()
    cases = [
        (["log", "verify"], other,
         (f"safeguard: error: the database's newest reports.details cannot be decrypted with SAFEGUARD_ENCRYPTION_KEY "
          f"(key {fingerprint(other.encode())}): it was encrypted with another key, or edited")),
        (["keys", "rotate"], f"{other},{other}",
         "safeguard: error: the database's newest reports.details cannot be decrypted"),
        (["log", "verify"], "not-a-key",
         "safeguard: error: SAFEGUARD_ENCRYPTION_KEY is not a Fernet key (44 characters of url-safe base64"),
        (["keys", "rotate"], f"{other},{TEST_KEY[:-2]}",
         "safeguard: error: key 2 of 2 in SAFEGUARD_ENCRYPTION_KEY is not a Fernet key"),
        (["keys", "rotate"], None, "safeguard: error: SAFEGUARD_ENCRYPTION_KEY is not set: give the new key first"),
    ]
    for args, key, message in cases:
        done = await asyncio.to_thread(safeguard, *args, "--database-url", database_url, key=key)
        assert (done.returncode, done.stdout) == (2, ""), (args, done.stdout, done.stderr)
        assert done.stderr.startswith(message), (args, done.stderr)
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
        assert TEST_KEY not in done.stderr and other not in done.stderr, "a key is never printed"


async def test_an_edited_token_is_named_by_log_verify(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await plant(sessions, clock)
    async with engine.begin() as connection:
        token = (await connection.exec_driver_sql("SELECT text FROM report_notes")).scalar_one()
        edited = token[:60] + ("A" if token[60] != "A" else "B") + token[61:]
        await connection.exec_driver_sql(f"UPDATE report_notes SET text = '{edited}'")
    async with sessions() as session:
        result = await verify(session)
    assert (result.ok, result.problem) == (False, ("the text of note 1 cannot be decrypted with the keys given: it "
                                                   "was edited, or encrypted with a key that is not among them"))


async def test_an_engine_without_keys_refuses_rather_than_store_plaintext(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str
) -> None:
    await plant(sessions, clock)
    keyless = engine_with(database_url, None)
    try:
        with pytest.raises(NoKeyring, match="has no encryption keyring"):
            await readable(sessionmaker(keyless))
        with pytest.raises(StatementError) as refused:
            async with sessionmaker(keyless).begin() as session:
                await save_draft(session, now=clock(), channel="console", user_id="jellis", state={"words": PHRASE})
        assert isinstance(refused.value.orig, NoKeyring)
        assert PHRASE not in str(refused.value), "the failed statement's parameters are not in the error"
        async with keyless.connect() as connection:
            drafts = (await connection.exec_driver_sql("SELECT user_id FROM drafts")).scalars().all()
        assert drafts == ["rpatel"], "nothing was written"
    finally:
        await keyless.dispose()


async def decrypt_in_place(engine: AsyncEngine) -> None:
    """Turn the planted values back to plaintext, as a database written before encryption at rest holds them."""
    async with sessionmaker(engine).begin() as session:
        for sealed in ENCRYPTED:
            rows = (await session.execute(select(*sealed.primary_key, sealed.column))).all()
            for *key, value in rows:
                if value is not None:
                    plain = literal(value, type_=JSON() if sealed.is_json else Text())
                    await session.execute(update(sealed.table).where(sealed.matching(tuple(key))).values({sealed.column: plain}))


async def test_text_stored_before_encryption_is_read_then_encrypted_at_start(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str
) -> None:
    await plant(sessions, clock)
    await decrypt_in_place(engine)
    assert PHRASE in await raw_database(engine), "a database from before encryption at rest"
    assert all(PHRASE in value for value in await readable(sessions)), "still readable"
    async with sessions() as session:
        assert (await verify(session)).ok
    keyless = engine_with(database_url, None)
    try:
        with pytest.raises(NoKeyring):
            await readable(sessionmaker(keyless))  # the digest's engine: no report text, even plaintext
    finally:
        await keyless.dispose()

    sealed = await unlock(sessions, now=clock())  # what `safeguard serve` and `safeguard chat` do at start
    assert (sealed.encrypted, sealed.reencrypted) == (PLANTED, 0)
    assert PHRASE not in await raw_database(engine)
    assert all(PHRASE in value for value in await readable(sessions))
    async with sessions() as session:
        assert (await verify(session)).ok
        last = (await session.scalars(select(Event).order_by(Event.seq.desc()).limit(1))).one()
    assert (last.kind, last.data["encrypted"], last.data["key"]) == ("plaintext_encrypted", PLANTED, TEST_KEYS.primary)
    again = await unlock(sessions, now=clock())
    assert again.encrypted == 0
    async with sessions() as session:
        assert (await session.scalars(select(Event.seq).order_by(Event.seq.desc()).limit(1))).one() == last.seq


async def test_keys_rotate_also_encrypts_text_stored_before_encryption(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock, database_url: str
) -> None:
    await plant(sessions, clock)
    await decrypt_in_place(engine)
    rotated = await invoke("keys", "rotate", "--database-url", database_url, key=TEST_KEY)
    assert rotated.exit_code == 0, rotated.output
    assert f"0 value(s) re-encrypted under key {TEST_KEYS.primary}, {PLANTED} stored before encryption at rest " \
           "encrypted, 0 already under it." in rotated.output
    assert PHRASE not in await raw_database(engine)


async def test_a_value_saved_during_a_rotation_is_not_overwritten(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await plant(sessions, clock)
    drafts = next(s for s in ENCRYPTED if s.table.name == Draft.__tablename__)
    async with sessions.begin() as session:
        stale = (await session.execute(select(drafts.raw()))).scalar_one()
        await save_draft(session, now=clock(), channel="console", user_id="rpatel", state={"saved": "meanwhile"})
        assert not await drafts.replace(session, ("console", "rpatel"), stale, TEST_KEYS.encrypt("{}"))
    async with sessions() as session:
        assert await load_draft(session, channel="console", user_id="rpatel") == {"saved": "meanwhile"}
