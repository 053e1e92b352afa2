"""slack_sdk's SQLAlchemy installation store, with every token encrypted before it reaches our database.

A school's reports are encrypted at rest so that a copied database or a stolen backup gives
nothing away; a workspace's bot token in plain text beside them would give away the means to
read and post as the bot in that school's Slack. slack_sdk writes its tables with its own
statements, so the column types that encrypt our own tables (storage/encrypted.py) do not
reach them: the tokens are sealed here, on their way in and out, under the same keys.

A token already shaped like an encrypted one is left as it is (slack_sdk's `async_save` saves
the installation, then its bot through `async_save_bot`); one stored in plain text before this
store (a deployment from before migration 0018) still reads, and is encrypted at the next
start with everything else stored before encryption at rest (storage/rotation.py `unlock`),
and by `safeguard keys rotate`.
"""

from __future__ import annotations

import copy
from typing import TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore

from storage.crypto import Keyring, looks_like_token
from storage.encrypted import keyring_of
from storage.slack_tables import TOKEN_COLUMNS

Stored = TypeVar("Stored", Bot, Installation)


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """Tokens encrypted in `async_save` and `async_save_bot`, decrypted in `async_find_bot` and `async_find_installation`."""

    @property
    def keyring(self) -> Keyring:
        """The deployment's keys, as attached to our engine (read at each use: a rotation may change them)."""
        return keyring_of(self.engine.dialect)

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(self._sealed(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(self._sealed(bot))

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        found = await super().async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                             is_enterprise_install=is_enterprise_install)
        return None if found is None else self._opened(found)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        found = await super().async_find_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                                      is_enterprise_install=is_enterprise_install)
        return None if found is None else self._opened(found)

    def _sealed(self, stored: Stored) -> Stored:
        """A copy with each token encrypted (the caller's object keeps its tokens: bolt goes on using them)."""
        keyring, sealed = self.keyring, copy.copy(stored)
        for name in TOKEN_COLUMNS:
            value = getattr(sealed, name, None)
            if isinstance(value, str) and value and not looks_like_token(value):
                setattr(sealed, name, keyring.encrypt(value))
        return sealed

    def _opened(self, stored: Stored) -> Stored:
        """`stored` with each encrypted token decrypted (a token still in plain text is left as it is)."""
        keyring = self.keyring
        for name in TOKEN_COLUMNS:
            value = getattr(stored, name, None)
            if isinstance(value, str) and looks_like_token(value):
                setattr(stored, name, keyring.decrypt(value))
        return stored
