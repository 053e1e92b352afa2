"""Who a Teams account is in the school config, and where their chat with the bot is kept."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.app import STORE_ERRORS, TEAMS, App
from routing.school import Person
from storage.alerts import due_now
from storage.conversation_refs import forget_reference, load_reference, save_reference

log = logging.getLogger(__name__)


class Directory:
    """The school's people by their Teams ids.

    A person's `teams:` id may be their Microsoft Entra object id (a GUID an admin can look up,
    the same for every app) or their Teams user id (`29:...`, which Teams gives each bot
    separately): an account matches on either, in any case.
    """

    def __init__(self, app: App) -> None:
        self.by_id = {p.teams.strip().lower(): p for p in app.staff if p.teams}

    def person(self, account: Any) -> Person | None:
        """The person behind a botbuilder ChannelAccount (an activity's `from`), if the school knows them."""
        if account is None:
            return None
        for key in (getattr(account, "aad_object_id", None), getattr(account, "id", None)):
            if key and (found := self.by_id.get(str(key).strip().lower())) is not None:
                return found
        return None


class References:
    """Each person's conversation with the bot, in the database (an alert after a restart still finds it)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._saved: dict[str, str] = {}  # what this process last stored, so an unchanged chat is not rewritten

    async def remember(self, person_id: str, reference: dict[str, Any]) -> None:
        """Keep where this person's chat is; a failure is logged (their reply still goes, alerts wait)."""
        # The message id changes with every message and is not needed to start a new one; the
        # person's display name is not needed at all (the school config has it), so it is not kept.
        kept = {key: value for key, value in reference.items() if key != "activityId"}
        if isinstance(kept.get("user"), dict):
            kept["user"] = {key: value for key, value in kept["user"].items() if key != "name"}
        canonical = json.dumps(kept, sort_keys=True)
        if self._saved.get(person_id) == canonical:
            return
        try:
            async with self.app.sessions.begin() as session:
                await save_reference(session, now=self.app.now(), channel=TEAMS, person_id=person_id, reference=kept)
                # What waited for their chat (backing off meanwhile) may go at once now it is known.
                await due_now(session, channel=TEAMS, person_id=person_id)
        except STORE_ERRORS:
            log.exception("could not store the Teams conversation of %s", person_id)
            return
        self._saved[person_id] = canonical

    async def load(self, person_id: str) -> dict[str, Any] | None:
        """Where this person's chat is, or None if they have never opened Safeguard in Teams."""
        async with self.app.sessions() as session:
            return await load_reference(session, channel=TEAMS, person_id=person_id)

    async def forget(self, person_id: str) -> None:
        """They removed the app: alerts wait until they add it again."""
        self._saved.pop(person_id, None)
        try:
            async with self.app.sessions.begin() as session:
                await forget_reference(session, channel=TEAMS, person_id=person_id)
        except STORE_ERRORS:
            log.exception("could not forget the Teams conversation of %s", person_id)
