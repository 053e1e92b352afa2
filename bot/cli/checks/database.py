"""The database: reachable and migrated to head, opened by the encryption key, and its outbox moving."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.keyring import keyring_for, sqlite_file
from bot.cli.storage import shown_url
from bot.cli.checks.relay import CHECK, relay_row
from bot.cli.checks.rows import Row, ok, problem, skipped
from routing.yamlfields import InputError
from storage.crypto import ENV, HOW_TO_MAKE_ONE, Keyring, KeyringError, keys_from_env
from storage.db import create_engine, sessionmaker
from storage.migrate import current, head
from storage.models import Report
from storage.outbox_health import OutboxHealth, outbox_health
from storage.sealed import check_keys

# An alert is sent within seconds; one still waiting after this means the server is not
# running, or cannot reach the person's chat app. A child at immediate risk is acknowledged
# within 15 minutes or escalated (KCSIE Part one): five minutes of silence is already a third of it.
OLD_UNSENT = timedelta(minutes=5)
# Messages given up on this recently still need someone to act (a wrong chat id, someone who left).
RECENT_GIVEN_UP = timedelta(days=7)
UNREACHABLE = (OSError, SQLAlchemyError)


async def database_rows(url: str, env: Mapping[str, str], now: datetime) -> list[Row]:
    """Rows for the database, the encryption key and the outbox; later ones skipped while an earlier fails."""
    try:
        shown = shown_url(url)
    except InputError as exc:
        return [problem("database", str(exc), "set DATABASE_URL (or --database-url) to the server's database"),
                *_skipped_after("the database URL")]
    path = sqlite_file(url)
    if path is not None and not path.exists():
        # Opening it would quietly create an empty database.
        return [problem("database", f"{shown}: no such database file",
                        "point DATABASE_URL (or --database-url) at the server's database, or create it with "
                        "`safeguard db upgrade`"), *_skipped_after("the database")]
    try:
        revision = await current(url)
    except UNREACHABLE as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return [problem("database", f"cannot reach {shown}: {reason}",
                        "check the database server is running and DATABASE_URL's host, port, user and name"),
                *_skipped_after("the database")]
    if revision != head():
        found = "has no Safeguard tables" if revision is None else f"is at revision {revision}"
        return [problem("database", f"{shown} {found}; this code needs revision {head()}",
                        "run `safeguard db upgrade` (`safeguard serve` also does at start)"),
                *_skipped_after("the database is migrated")]
    rows = [ok("database", f"{shown} is reachable and at revision {head()}")]
    try:
        keyring: Keyring | None = keyring_for(keys_from_env(env), url).keyring
    except KeyringError as exc:
        keyring = None
        rows.append(problem("encryption key", str(exc), f"set {ENV} to the key the database was written with "
                                                        f"(for a new database, {HOW_TO_MAKE_ONE})"))
    if keyring is not None:
        rows.append(await _key_row(url, keyring))
    rows.append(await relay_row(url, env, keyring))
    rows.append(await _outbox_row(url, now))
    return rows


def _skipped_after(what: str) -> list[Row]:
    return [skipped(check, f"not checked until {what} is fixed") for check in ("encryption key", CHECK, "outbox")]


async def _key_row(url: str, keyring: Keyring) -> Row:
    """Whether the key (SAFEGUARD_ENCRYPTION_KEY, else demo mode's key file) opens what the database holds."""
    engine = create_engine(url, keys=keyring)
    try:
        async with sessionmaker(engine)() as session:
            try:
                await check_keys(session)
            except KeyringError as exc:
                return problem("encryption key", f"wrong key: {exc}",
                               f"set {ENV} to the key the reports were written with; after a rotation, "
                               "the new key first and the old after it (NEW,OLD)")
            reports = (await session.execute(select(func.count()).select_from(Report))).scalar_one()
    finally:
        await engine.dispose()
    if not reports:
        return ok("encryption key", f"{keyring.source} (key {keyring.primary}) is a good key; no report is stored "
                                    "yet, so every report will be written with it: keep it safe")
    return ok("encryption key", f"{keyring.source} (key {keyring.primary}) opens what is stored ({reports} report(s))")


async def _outbox_row(url: str, now: datetime) -> Row:
    engine = create_engine(url, keys=None)  # counts and times only: no report text is read
    try:
        async with sessionmaker(engine)() as session:
            health = await outbox_health(session, now=now, recent=RECENT_GIVEN_UP)
    finally:
        await engine.dispose()
    return outbox_row(health, now)


def outbox_row(health: OutboxHealth, now: datetime) -> Row:
    """The outbox's row: a problem when a message has waited too long or one was given up on lately."""
    waiting = sum(health.waiting.values())
    parts = [f"{waiting} message(s) waiting{_by_channel(health.waiting)}"]
    if health.oldest_waiting is not None:
        parts.append(f"the oldest for {_age(now - health.oldest_waiting)}")
    given_up = sum(health.given_up.values())
    parts.append(f"{given_up} given up as undeliverable{_by_channel(health.given_up)}")
    if health.newest_given_up is not None:
        parts.append(f"the newest queued {_age(now - health.newest_given_up)} ago, "
                     f"{health.given_up_recently} in the last {RECENT_GIVEN_UP.days} days")
    detail = "; ".join(parts)
    fixes = []
    if health.oldest_waiting is not None and now - health.oldest_waiting > OLD_UNSENT:
        fixes.append("a message has waited over 5 minutes: check `safeguard serve` is running and its log for "
                     "errors sending to Slack or Teams (a message waiting on the console is read only when that "
                     "person runs `safeguard chat`: give them a Slack or Teams id)")
    if health.given_up_recently:
        fixes.append("the DSL was told of each message given up: correct the person's Slack or Teams id in the "
                     "config (the Slack people row names wrong ids), or reinstall the app where it was removed")
    return problem("outbox", detail, "; ".join(fixes)) if fixes else ok("outbox", detail)


def _by_channel(counts: Mapping[str, int]) -> str:
    return f" ({', '.join(f'{channel} {n}' for channel, n in sorted(counts.items()))})" if counts else ""


def _age(age: timedelta) -> str:
    """An age in the largest unit that fits: 40 s, 12 min, 3 h, 2 days."""
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
