"""Column types that encrypt on the way into the database and decrypt on the way out.

The keyring travels with the engine (on its dialect, set by storage.db.create_engine), not in
a process global: tests and tools open many engines, each with its own key. An engine made
without a keyring refuses to read or write these columns rather than store plaintext.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Dialect, Text, TypeDecorator

from storage.crypto import Keyring, looks_like_token

_ATTRIBUTE = "safeguard_keyring"


class NoKeyring(RuntimeError):
    """An encrypted column was used on an engine made without a keyring (a bug, never bad input)."""


def attach_keyring(dialect: Dialect, keyring: Keyring | None) -> None:
    """Give an engine's dialect the keyring its encrypted columns use (None: they refuse)."""
    setattr(dialect, _ATTRIBUTE, keyring)


def keyring_of(dialect: Dialect) -> Keyring:
    """The keyring attached to this dialect's engine; NoKeyring if it has none."""
    keyring = getattr(dialect, _ATTRIBUTE, None)
    if not isinstance(keyring, Keyring):
        raise NoKeyring(
            "this database engine has no encryption keyring, so it may not read or write report text: "
            "make it with storage.db.create_engine(url, keys=...)"
        )
    return keyring


def encode_json(value: Any) -> str:
    """The JSON text a document is encrypted as."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def decrypted_text(keyring: Keyring, value: str | None) -> str | None:
    """An EncryptedText column's value as stored, read (also by verify's second process: storage.report_digests)."""
    if value is None:
        return None
    if not looks_like_token(value):
        # Written before encryption at rest: read as it is; the server encrypts it at its
        # next start, and `safeguard keys rotate` does too.
        return value
    return keyring.decrypt(value)


def decrypted_json(keyring: Keyring, value: Any) -> Any:
    """An EncryptedJSON column's value as its JSON type reads it (a token, as a JSON string), read."""
    if isinstance(value, str) and looks_like_token(value):
        return json.loads(keyring.decrypt(value))
    # An object written before encryption at rest (see EncryptedText), or None.
    return value


class EncryptedText(TypeDecorator[str]):
    """Free text (a note, a closing reason), stored as a Fernet token in a Text column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        # The keyring even for plaintext: an engine without keys never reads report text.
        return decrypted_text(keyring_of(dialect), value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document (a report's details, a draft), stored as one Fernet token: a JSON string.

    The column stays JSON, so no migration changes its type (on SQLite that would rebuild
    `reports`, and the rebuild's cascade would delete every row that refers to it).
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt(encode_json(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return decrypted_json(keyring_of(dialect), value)


class EncryptedBytes(TypeDecorator[bytes]):
    """Bytes (a screenshot), stored as one Fernet token in a Text column; never written in the clear."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt_bytes(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> bytes | None:
        keyring = keyring_of(dialect)
        return None if value is None else keyring.decrypt_bytes(value)
