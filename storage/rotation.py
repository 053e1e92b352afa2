"""Re-encrypting stored text: under a new key (`safeguard keys rotate`), and text stored before encryption.

Both walk every encrypted column in batches of rows, each batch its own transaction, so a
long run holds no lock for long and an interrupted one leaves every value readable with the
keys given: running it again finishes the job (values already under the first key are left).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import Keyring, KeyringError, looks_like_token
from storage.encrypted import keyring_of
from storage.log import SYSTEM, EventKind, append_event
from storage.sealed import ENCRYPTED, Key, Sealed, check_keys



@dataclass
class Rotation:
    """What a pass over the encrypted columns did, in values."""

    key: str  # the fingerprint of the key everything is now under
    reencrypted: int = 0  # tokens of an older key, now under the first
    encrypted: int = 0  # plaintext stored before encryption at rest, now encrypted
    unchanged: int = 0  # already under the first key
    changed_meanwhile: int = 0  # saved by someone else during the pass: left for the next pass

    def as_event(self) -> dict[str, object]:
        """The event's data: counts and the key's fingerprint, never a key or a value."""
        return {"key": self.key, "reencrypted": self.reencrypted, "encrypted": self.encrypted,
                "unchanged": self.unchanged, "changed_meanwhile": self.changed_meanwhile}


async def rotate_keys(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> Rotation:
    """Put every encrypted value under the first key (plaintext included), then log `keys_rotated`."""
    rotation = await _pass(sessions, plaintext_only=False)
    async with sessions.begin() as session:
        await append_event(session, now=now, actor=SYSTEM, kind=EventKind.KEYS_ROTATED, report_ref=None,
                           data=rotation.as_event())
    return rotation


async def encrypt_plaintext(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> Rotation:
    """Encrypt values stored before encryption at rest (run at start); log `plaintext_encrypted` if there were any."""
    rotation = await _pass(sessions, plaintext_only=True)
    if rotation.encrypted:
        async with sessions.begin() as session:
            await append_event(session, now=now, actor=SYSTEM, kind=EventKind.PLAINTEXT_ENCRYPTED, report_ref=None,
                               data=rotation.as_event())
    return rotation


async def _pass(sessions: async_sessionmaker[AsyncSession], *, plaintext_only: bool) -> Rotation:
    async with sessions() as session:
        keyring = keyring_of(session.get_bind().dialect)
    rotation = Rotation(key=keyring.primary)
    for sealed in ENCRYPTED:
        query = select(*sealed.primary_key).order_by(*sealed.primary_key)
        if plaintext_only:
            query = query.where(sealed.plaintext())
        async with sessions() as session:
            keys: list[Key] = [tuple(row) for row in (await session.execute(query)).all()]
        for start in range(0, len(keys), sealed.batch):
            async with sessions.begin() as session:
                await _batch(session, keyring, sealed, keys[start:start + sealed.batch], rotation,
                             plaintext_only=plaintext_only)
    return rotation


async def _batch(session: AsyncSession, keyring: Keyring, sealed: Sealed, keys: list[Key], rotation: Rotation, *,
                 plaintext_only: bool) -> None:
    query = select(*sealed.primary_key, sealed.raw()).where(sealed.among(keys), sealed.raw().is_not(None))
    for *key, stored in (await session.execute(query)).all():
        value = sealed.value(stored)
        legacy = not (isinstance(value, str) and looks_like_token(value))
        if not legacy and (plaintext_only or keyring.is_current(value)):
            rotation.unchanged += 1
            continue
        try:
            token = sealed.encrypt(keyring, value) if legacy else keyring.rotate(value)
        except KeyringError:
            raise keyring.cannot_decrypt(f"{sealed.label} of row {', '.join(map(str, key))}") from None
        if not await sealed.replace(session, tuple(key), stored, token):
            rotation.changed_meanwhile += 1
        elif legacy:
            rotation.encrypted += 1
        else:
            rotation.reencrypted += 1


async def unlock(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> Rotation:
    """At start: refuse keys that do not open the database, then encrypt text stored before encryption at rest."""
    async with sessions() as session:
        await check_keys(session)
    return await encrypt_plaintext(sessions, now=now)
