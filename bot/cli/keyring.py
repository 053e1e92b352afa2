"""Where a command finds its encryption key: SAFEGUARD_ENCRYPTION_KEY, else demo mode's key file.

Demo mode (`safeguard serve --demo`, and the console, which is a local tool) keeps the key of a
SQLite database in a file beside it, so trying Safeguard needs no set-up; the file is written
only there, readable by its owner only, and the command says so when it writes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.crypto import (
    ENV,
    HOW_TO_MAKE_ONE,
    Keyring,
    KeyringError,
    create_key_file,
    demo_key_file,
    read_key_file,
)
from storage.db import database_url


@dataclass(frozen=True)
class FoundKeys:
    """The keyring a command uses, and the demo key file it came from (if it did)."""

    keyring: Keyring
    file: Path | None = None
    created: bool = False  # whether this command just wrote that file

    def notice(self) -> str:
        """What to tell the person about a key file just written (empty if none was)."""
        if not self.created:
            return ""
        return (f"safeguard: demo mode: wrote a new encryption key to {self.file} (readable by you only); keep it "
                f"with the database, which cannot be read without it. For real use set {ENV} ({HOW_TO_MAKE_ONE}).")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL or an in-memory database."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = parsed.database
    if parsed.query.get("uri") and path.startswith("file:"):
        path = path.removeprefix("file:").split("?", 1)[0]  # file:PATH?mode=ro&uri=true, a read-only copy
    return Path(path)


def keyring_for(given: Keyring | None, url: str, *, create: bool = False) -> FoundKeys:
    """`given` (from SAFEGUARD_ENCRYPTION_KEY); else the key file beside a SQLite database, written first if `create`."""
    if given is not None:
        return FoundKeys(given)
    database = sqlite_file(url)
    if database is None:
        raise KeyringError(f"{ENV} is not set: give the key this database is encrypted with "
                           f"(for a new database, {HOW_TO_MAKE_ONE}); a demo key file is kept only beside a SQLite file")
    path = demo_key_file(database)
    created = create and create_key_file(path)
    if not path.exists():
        raise KeyringError(f"{ENV} is not set, and there is no demo key file {path}: give the key this "
                           f"database is encrypted with (for a new database, {HOW_TO_MAKE_ONE})")
    return FoundKeys(read_key_file(path), path, created)
