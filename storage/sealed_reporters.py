"""Who sent a report "without my name": sealed under a relay key the school's key and tools cannot open.

A report sent without a name stores a random handle (`anonymous-3f9c0a1b2d4e`) where the
reporter's id would be, everywhere: the report, its events, its outbox rows. The one link from
that handle to the person's chat address (the channel and their person id) is this table's
`sealed` token, made with SAFEGUARD_RELAY_KEY: a Fernet key of its own, never derived from
SAFEGUARD_ENCRYPTION_KEY, so whoever holds the database and the school's key still cannot open
it. The bot opens it only at the moment it sends the reporter news, and keeps nothing it read.
The row goes with its report (ON DELETE CASCADE), so erasing a report erases the link.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import Keyring, KeyringError, fingerprint
from storage.models import Base, Report

RELAY_ENV = "SAFEGUARD_RELAY_KEY"
HANDLE_PREFIX = "anonymous-"
HOW_TO_MAKE_ONE = "make one with `safeguard keys relay`"


class SealedReporter(Base):
    """The sealed chat address of one report's anonymous reporter: readable with the relay key alone."""

    __tablename__ = "sealed_reporters"

    handle: Mapped[str] = mapped_column(String(100), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    sealed: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Address:
    """Where a reporter is reached: the channel they reported on and their person id there."""

    channel: str
    person_id: str


class Relay:
    """The relay key(s): the first seals, any of them opens (so the key can be replaced, NEW,OLD)."""

    def __init__(self, keys: list[bytes]) -> None:
        self.fingerprints = tuple(fingerprint(key) for key in keys)
        self._primary = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])

    def __repr__(self) -> str:
        return f"Relay(keys {', '.join(self.fingerprints)})"

    def seal(self, payload: Mapping[str, str]) -> str:
        """The payload as a token only a relay key opens."""
        return self._primary.encrypt(json.dumps(dict(payload), sort_keys=True).encode("utf-8")).decode("ascii")

    def open(self, token: str) -> dict[str, str] | None:
        """The payload of a token, or None if no relay key given made it."""
        try:
            data = json.loads(self._all.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            return None
        return data if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()) else None


def new_relay_key() -> str:
    """A fresh random key for SAFEGUARD_RELAY_KEY."""
    return Fernet.generate_key().decode("ascii")


def relay_from_env(env: Mapping[str, str], encryption: Keyring | None = None) -> Relay | None:
    """The relay SAFEGUARD_RELAY_KEY gives (None when unset); a KeyringError if malformed or one of the encryption keys.

    The relay key must stay apart from the encryption key: whoever holds the school's key (its
    backups, `safeguard keys rotate`, an export's reader) must not be able to unseal a reporter.
    """
    text = env.get(RELAY_ENV, "").strip()
    if not text:
        return None
    keys = [part.strip() for part in text.split(",") if part.strip()]
    for key in keys:
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise KeyringError(f"{RELAY_ENV} is not a Fernet key (44 characters of url-safe base64); "
                               f"{HOW_TO_MAKE_ONE}") from None
    relay = Relay([key.encode("ascii") for key in keys])
    if encryption is not None:
        kept_apart(relay, encryption)
    return relay


def kept_apart(relay: Relay, encryption: Keyring) -> None:
    """Refuse (KeyringError) a relay key that is also an encryption key: the school's key must not unseal reporters."""
    if set(relay.fingerprints) & set(encryption.fingerprints):
        raise KeyringError(f"{RELAY_ENV} is one of the keys in {encryption.source}: the relay key must be a "
                           f"different key, kept apart from it; {HOW_TO_MAKE_ONE}")


def new_handle() -> str:
    """A random handle for one report's reporter: nothing in it says who, and no two reports share one."""
    return HANDLE_PREFIX + secrets.token_hex(8)


def is_handle(person_id: str | None) -> bool:
    """Whether a stored person id is an anonymous reporter's handle."""
    return person_id is not None and person_id.startswith(HANDLE_PREFIX)


async def seal(session: AsyncSession, relay: Relay, *, report: Report, address: Address) -> None:
    """Keep the link from `report`'s handle to its reporter, sealed, in the caller's transaction."""
    token = relay.seal({"handle": report.reporter, "channel": address.channel, "person": address.person_id})
    session.add(SealedReporter(handle=report.reporter, report_id=report.id, sealed=token))
    await session.flush()


async def unseal(session: AsyncSession, relay: Relay | None, handle: str) -> Address | None:
    """The chat address behind a handle; None without the relay key, or if the link is gone or not this handle's."""
    if relay is None:
        return None
    token = await session.scalar(select(SealedReporter.sealed).where(SealedReporter.handle == handle))
    opened = None if token is None else relay.open(token)
    # The handle is sealed with the address, so a token copied onto another row opens to nothing.
    if opened is None or opened.get("handle") != handle or not opened.get("channel") or not opened.get("person"):
        return None
    return Address(opened["channel"], opened["person"])


async def handles_of(session: AsyncSession, relay: Relay | None, person_id: str) -> list[str]:
    """The handles whose sealed address is this person's (their own anonymous reports), opening each in turn.

    Nothing indexes a reporter: the rows are opened one by one, so a table without the relay
    key does not even tell which reports share an anonymous reporter.
    """
    if relay is None:
        return []
    found = []
    for handle, token in (await session.execute(select(SealedReporter.handle, SealedReporter.sealed))).all():
        opened = relay.open(token)
        if opened is not None and opened.get("handle") == handle and opened.get("person") == person_id:
            found.append(handle)
    return found
