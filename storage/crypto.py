"""The encryption keys: SAFEGUARD_ENCRYPTION_KEY (Fernet keys, newest first), a key file, or a demo key file.

A service manager can hand the key over in a file instead of the environment (which other
processes of the same user may read): SAFEGUARD_ENCRYPTION_KEY_FILE names one, and under
systemd's LoadCredential=safeguard-key:... it is $CREDENTIALS_DIRECTORY/safeguard-key.

What staff type into a report (a child's words, names, links) is encrypted before it reaches
the database, so a copied database file or a stolen backup does not give it away. The key
never appears in a message or a log: a key is named by its fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from routing.yamlfields import InputError

ENV = "SAFEGUARD_ENCRYPTION_KEY"
FILE_ENV = "SAFEGUARD_ENCRYPTION_KEY_FILE"
# The credential's name in a systemd unit: LoadCredential=safeguard-key:/etc/safeguard/encryption.key
CREDENTIAL = "safeguard-key"
HOW_TO_MAKE_ONE = "make one with `safeguard keys new`"
# Every Fernet token starts with the version byte 0x80 and a 64-bit timestamp whose top bytes
# stay zero until 2106: in url-safe base64 that is "gAAAAA". Cheap to test in SQL (LIKE).
TOKEN_PREFIX = "gAAAAA"
# version (1) + timestamp (8) + IV (16) + HMAC (32); the AES blocks between them are 16 bytes each.
_TOKEN_OVERHEAD = 57


class KeyringError(InputError):
    """A key is missing or malformed, or a value cannot be decrypted with the keys given."""


def new_key() -> str:
    """A fresh random Fernet key, as SAFEGUARD_ENCRYPTION_KEY takes it."""
    return Fernet.generate_key().decode("ascii")


def fingerprint(key: bytes) -> str:
    """The first 8 hex digits of the key's sha256: names a key in logs without revealing it."""
    return hashlib.sha256(base64.urlsafe_b64decode(key)).hexdigest()[:8]


def looks_like_token(value: str) -> bool:
    """Whether `value` is shaped like a Fernet token (anything else is text stored before encryption)."""
    if not value.startswith(TOKEN_PREFIX):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError):
        return False
    return len(raw) > _TOKEN_OVERHEAD and (len(raw) - _TOKEN_OVERHEAD) % 16 == 0


class Keyring:
    """The keys a database is read with: the first encrypts, any of them decrypts (MultiFernet)."""

    def __init__(self, keys: Sequence[bytes], *, source: str) -> None:
        if not keys:
            raise KeyringError(f"{source} holds no key; {HOW_TO_MAKE_ONE}")
        self.source = source
        self.fingerprints = tuple(fingerprint(key) for key in keys)
        self._primary = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])

    def __repr__(self) -> str:
        return f"Keyring({self.source}, keys {', '.join(self.fingerprints)})"

    @property
    def primary(self) -> str:
        """The fingerprint of the key new values are encrypted with."""
        return self.fingerprints[0]

    def encrypt(self, plaintext: str) -> str:
        """`plaintext` encrypted with the first key, as a token."""
        return self._primary.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of a token made with any of the keys; a KeyringError if none of them made it."""
        return self.decrypt_bytes(token).decode("utf-8")

    def encrypt_bytes(self, data: bytes) -> str:
        """Bytes (a screenshot) encrypted with the first key, as a token."""
        return self._primary.encrypt(data).decode("ascii")

    def decrypt_bytes(self, token: str) -> bytes:
        """The bytes of a token made with any of the keys; a KeyringError if none of them made it."""
        try:
            return self._all.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise self.cannot_decrypt("a value in the database") from None

    def rotate(self, token: str) -> str:
        """The token re-encrypted with the first key (decrypted with whichever key made it)."""
        try:
            return self._all.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise self.cannot_decrypt("a value in the database") from None

    def is_current(self, token: str) -> bool:
        """Whether the first key made this token (so rotating it would change nothing)."""
        try:
            self._primary.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def cannot_decrypt(self, what: str) -> KeyringError:
        """The error for a value none of the keys opens: the wrong key, a key left out after a rotation, or an edit."""
        keys = ", ".join(self.fingerprints)
        return KeyringError(
            f"{what} cannot be decrypted with {self.source} (key {keys}): it was encrypted with another key, "
            f"or edited; give the key it was written with (after a rotation, the new key first: NEW,OLD)"
        )


def parse_keys(text: str, *, source: str = ENV) -> Keyring:
    """A keyring from comma-separated Fernet keys, newest first; a KeyringError naming the bad one (never its value)."""
    parts = [part.strip() for part in text.split(",")]
    keys = [part for part in parts if part]
    if not keys:
        raise KeyringError(f"{source} is empty; {HOW_TO_MAKE_ONE}")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            which = "" if len(keys) == 1 else f"key {number} of {len(keys)} in "
            raise KeyringError(
                f"{which}{source} is not a Fernet key (44 characters of url-safe base64, as `safeguard keys new` "
                "prints); separate several keys with commas, the newest first"
            ) from None
    return Keyring([key.encode("ascii") for key in keys], source=source)


def keys_from_env(env: Mapping[str, str]) -> Keyring | None:
    """The keyring SAFEGUARD_ENCRYPTION_KEY gives, else the key file SAFEGUARD_ENCRYPTION_KEY_FILE names, else
    the systemd credential safeguard-key; None when none of them is set."""
    text = env.get(ENV, "")
    named = env.get(FILE_ENV, "").strip()
    if text.strip() and named:
        raise KeyringError(f"both {ENV} and {FILE_ENV} are set: give the key one way only")
    if text.strip():
        return parse_keys(text)
    if named:
        return read_key_file(Path(named))
    credentials = env.get("CREDENTIALS_DIRECTORY", "").strip()
    if credentials and (Path(credentials) / CREDENTIAL).exists():
        return read_key_file(Path(credentials) / CREDENTIAL)
    return None


def demo_key_file(database: Path) -> Path:
    """Where demo mode keeps the key of a SQLite database: beside it, `safeguard.db` -> `safeguard.key`."""
    return database.with_suffix(".key")


def read_key_file(path: Path) -> Keyring:
    """The keyring in a key file (one key, or several separated by commas)."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a key file"
        raise KeyringError(f"the key file {path} cannot be read: {reason}") from None
    return parse_keys(text, source=f"the key file {path}")


def create_key_file(path: Path) -> bool:
    """Write a new key to `path`, readable by its owner only, unless a key file is there; whether this wrote it.

    Two processes starting together both end up with the same key: the file is written
    whole under a temporary name and linked into place, which fails if one is there.
    """
    if path.exists():
        return False
    temporary: Path | None = None
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
        temporary = Path(name)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(new_key() + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise KeyringError(f"cannot write the key file {path}: {exc.strerror or exc}") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
