"""The encrypted columns as stored: found in the models, read and written as raw tokens, and checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Table,
    Text,
    and_,
    cast,
    literal,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import TOKEN_PREFIX, Keyring, KeyringError, looks_like_token
from storage.encrypted import EncryptedBytes, EncryptedJSON, EncryptedText, encode_json, keyring_of
from storage.models import Base
from storage.slack_tables import TOKEN_COLUMNS, slack_metadata

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Sealed:
    """One encrypted column of one table."""

    table: Table
    column: Column[Any]

    @property
    def label(self) -> str:
        """`reports.details`."""
        return f"{self.table.name}.{self.column.name}"

    @property
    def is_json(self) -> bool:
        return isinstance(self.column.type, EncryptedJSON)

    @property
    def batch(self) -> int:
        """How many rows a rotation reads at a time: a screenshot's token runs to megabytes, a note's to a few hundred bytes."""
        return 4 if isinstance(self.column.type, EncryptedBytes) else 200

    @property
    def primary_key(self) -> list[Column[Any]]:
        return list(self.table.primary_key.columns)

    def raw(self) -> ColumnElement[str]:
        """The column as stored, as text, past the decrypting type: a JSON column holds its token as a JSON string."""
        if self.is_json:
            return cast(self.column, Text)  # PostgreSQL's json has no '=', so compare its text
        return type_coerce(self.column, Text)

    def tokens(self) -> ColumnElement[bool]:
        """Rows whose value is (shaped like) a token: everything written since encryption at rest."""
        return self.raw().like(self._prefix() + "%")

    def plaintext(self) -> ColumnElement[bool]:
        """Rows whose value is not a token: written before encryption at rest (NULL is neither)."""
        return self.raw().not_like(self._prefix() + "%")

    def _prefix(self) -> str:
        return '"' + TOKEN_PREFIX if self.is_json else TOKEN_PREFIX

    def value(self, stored: str) -> Any:
        """A raw stored value as Python: a token (str), or the plaintext of a legacy row."""
        return json.loads(stored) if self.is_json else stored

    def encrypt(self, keyring: Keyring, plaintext: Any) -> str:
        """The token for a legacy plaintext value, encrypted as the column type would."""
        return keyring.encrypt(encode_json(plaintext) if self.is_json else plaintext)

    def matching(self, key: Key) -> ColumnElement[bool]:
        """The row with this primary key."""
        return and_(*(column == part for column, part in zip(self.primary_key, key, strict=True)))

    def among(self, keys: Sequence[Key]) -> ColumnElement[bool]:
        """The rows with these primary keys."""
        if len(self.primary_key) == 1:
            return self.primary_key[0].in_([key[0] for key in keys])
        return tuple_(*self.primary_key).in_(keys)

    async def replace(self, session: AsyncSession, key: Key, stored: str, token: str) -> bool:
        """Write `token` in place of `stored`, unless the row changed meanwhile; whether it was written."""
        # The stored value is compared, so a note or draft saved while this ran is not overwritten.
        written = literal(token, type_=JSON() if self.is_json else Text())  # the token as it is, not encrypted again
        result = await session.execute(
            update(self.table).where(self.matching(key), self.raw() == stored).values({self.column: written})
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


# How a person names a row of each table, for a message (`the text of note 3`).
_NOUNS = {"report_notes": "note", "drafts": "draft", "conversation_refs": "conversation reference", "pupils": "pupil",
          "report_evidence": "screenshot", "draft_evidence": "screenshot of a draft",
          "slack_installations": "Slack installation", "slack_bots": "Slack bot"}

# Every encrypted column of the models, reports first (what a key check names when it fails);
# then the Slack tokens slack_sdk's installation store keeps (encrypted by
# bot/channels/slack/install.py, since slack_sdk writes those tables with its own statements).
ENCRYPTED: tuple[Sealed, ...] = tuple(sorted(
    (Sealed(table, column) for table in Base.metadata.sorted_tables for column in table.columns
     if isinstance(column.type, (EncryptedText, EncryptedJSON, EncryptedBytes))),
    key=lambda sealed: sealed.table.name != "reports",
)) + tuple(Sealed(table, table.c[name]) for table in slack_metadata().sorted_tables for name in TOKEN_COLUMNS
           if name in table.c)


async def check_keys(session: AsyncSession) -> None:
    """Refuse (KeyringError) a keyring that cannot open the newest value of each encrypted column.

    Caught at start, a wrong key (or a rotation's new key given without the old) is one clear
    line, before a server writes new reports under a key the old ones do not open.
    """
    keyring = keyring_of(session.get_bind().dialect)
    for sealed in ENCRYPTED:
        query = select(sealed.raw()).where(sealed.tokens()).order_by(*(c.desc() for c in sealed.primary_key)).limit(1)
        stored = (await session.execute(query)).scalar_one_or_none()
        token = None if stored is None else sealed.value(stored)
        if isinstance(token, str) and looks_like_token(token):
            try:
                keyring.decrypt_bytes(token)  # whether a key opens it; a screenshot is not text
            except KeyringError:
                raise keyring.cannot_decrypt(f"the database's newest {sealed.label}") from None


async def first_undecryptable(session: AsyncSession) -> str | None:
    """The first stored value none of the keys opens, named as a person finds it (`the details of report SG-2026-0003`)."""
    keyring = keyring_of(session.get_bind().dialect)
    for sealed in ENCRYPTED:
        # Staff know a report by its reference, not its row id (conversation_refs' `reference` is something else).
        names = [sealed.table.c.reference] if sealed.table.name == "reports" else []
        # Read a batch of rows at a time: the screenshots of a school would not fit in memory at once.
        keys = [tuple(row) for row in (await session.execute(
            select(*sealed.primary_key).where(sealed.tokens()).order_by(*sealed.primary_key))).all()]
        for start in range(0, len(keys), sealed.batch):
            query = (select(*sealed.primary_key, *names, sealed.raw())
                     .where(sealed.among(keys[start:start + sealed.batch])).order_by(*sealed.primary_key))
            for *key, stored in (await session.execute(query)).all():
                try:
                    keyring.decrypt_bytes(sealed.value(stored))
                except KeyringError:
                    noun = "report" if names else _NOUNS.get(sealed.table.name, sealed.table.name)
                    return f"the {sealed.column.name} of {noun} {key[-1] if names else ', '.join(map(str, key))}"
    return None
