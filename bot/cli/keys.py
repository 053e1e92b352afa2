"""`safeguard keys new` and `safeguard keys rotate`: the key that encrypts what staff report."""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import utc_now
from bot.cli.storage import database_option, run_on_database, shown_url, with_database
from storage.crypto import ENV, HOW_TO_MAKE_ONE, KeyringError, keys_from_env, new_key
from storage.rotation import Rotation, rotate_keys
from storage.sealed_reporters import new_relay_key

EXIT_FINDINGS = 1


@click.group()
def keys() -> None:
    """The encryption key of reports, notes and drafts (SAFEGUARD_ENCRYPTION_KEY)."""


@keys.command(name="new")
def keys_new() -> None:
    """Print a new random key, for SAFEGUARD_ENCRYPTION_KEY (keep it safe: the reports cannot be read without it)."""
    click.echo(new_key())


@keys.command(name="relay")
def keys_relay() -> None:
    """Print a new random relay key, for SAFEGUARD_RELAY_KEY: it seals who sent a report without their name.

    Keep it apart from SAFEGUARD_ENCRYPTION_KEY (never in the same file, backup or password-manager
    entry): whoever holds both, with the database, could unseal who sent such a report.
    """
    click.echo(new_relay_key())


@keys.command(name="rotate")
@database_option
def keys_rotate(database_url: str) -> None:
    """Re-encrypt everything under the first key of SAFEGUARD_ENCRYPTION_KEY (NEW,OLD: any listed key opens it).

    Safe to run again (what is already under the new key is left), and with the server running:
    give the server NEW,OLD first, so what it writes meanwhile is under the new key too.
    """
    shown = shown_url(database_url)
    # The environment only, never a demo key file: rotating is moving a real database to a new key.
    keyring = keys_from_env(os.environ)
    if keyring is None:
        raise KeyringError(f"{ENV} is not set: give the new key first and the old after it (NEW,OLD); "
                           f"{HOW_TO_MAKE_ONE}")

    async def rotate(sessions: async_sessionmaker[AsyncSession]) -> Rotation:
        return await rotate_keys(sessions, now=utc_now())

    done = run_on_database(shown, with_database(database_url, rotate, keys=keyring))
    click.echo(f"{shown}: {done.reencrypted} value(s) re-encrypted under key {done.key}, {done.encrypted} stored "
               f"before encryption at rest encrypted, {done.unchanged} already under it.")
    if done.changed_meanwhile:
        click.echo(f"{done.changed_meanwhile} value(s) were saved by someone else while this ran and were left as "
                   "they were: run `safeguard keys rotate` again.")
        sys.exit(EXIT_FINDINGS)
    older = len(keyring.fingerprints) - 1
    if older:
        click.echo(f"Everything now opens with key {done.key} alone: remove the {older} older key(s) from {ENV} "
                   "(keep them with any backups made before now, which they still open).")
