"""Who a Teams account is in the school config, and where their chat with the bot is kept."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from bot.app import STORE_ERRORS, TEAMS, App
from routing.school import Person, School
from storage.alerts import due_now
from storage.conversation_refs import forget_reference, load_reference, save_reference

log = logging.getLogger(__name__)


class Directory:
    """The schools' people by their Teams ids, within the Microsoft 365 tenant each school is in.

    A person's `teams:` id may be their Microsoft Entra object id (a GUID an admin can look up,
    the same for every app) or their Teams user id (`29:...`, which Teams gives each bot
    separately): an account matches on either, in any case.

    One bot registration (MultiTenant) serves schools in several tenants: a school that names its
    `teams_tenant` is matched only by activities from that tenant, so an id from one tenant never
    finds someone of a school in another. A school that names none is matched from any tenant
    (one tenant for the whole deployment, as before).
    """

    def __init__(self, app: App, schools: Sequence[School] | None = None) -> None:
        # The schools whose people Teams reaches: every school of the deployment.
        self.schools = tuple(schools) if schools is not None else app.trust.schools
        self.by_tenant: dict[str | None, dict[str, Person]] = {}
        for school in self.schools:
            people = self.by_tenant.setdefault(school.teams_tenant, {})
            for person in school.everyone:
                if person.teams:
                    people.setdefault(person.teams.strip().lower(), person)
        self.by_id = self.by_tenant.get(None, {})

    def person(self, activity: Any) -> Person | None:
        """The person who sent a botbuilder Activity (its `from`, in its tenant), if a school there knows them."""
        account = getattr(activity, "from_property", None)
        if account is None:
            return None
        tenant = tenant_of(activity)
        # The schools in the activity's tenant, then those that name no tenant (a one-tenant deployment).
        places = ([self.by_tenant.get(tenant, {})] if tenant is not None else []) + [self.by_id]
        for key in (getattr(account, "aad_object_id", None), getattr(account, "id", None)):
            for people in places:
                if key and (found := people.get(str(key).strip().lower())) is not None:
                    return found
        return None


def tenant_of(activity: Any) -> str | None:
    """The Microsoft 365 tenant an activity came from (channelData.tenant.id, else conversation.tenantId), lower case.

    Teams sends both; were they ever to differ, the activity is from no tenant we can trust.
    """
    data = getattr(activity, "channel_data", None)
    tenant = data.get("tenant") if isinstance(data, dict) else None
    from_data = tenant.get("id") if isinstance(tenant, dict) else None
    conversation = getattr(activity, "conversation", None)
    # botbuilder's schema reads `tenantID`; Teams sends `tenantId`, which lands among the extra properties.
    extra = getattr(conversation, "additional_properties", None)
    from_conversation = getattr(conversation, "tenant_id", None) or (
        extra.get("tenantId") if isinstance(extra, dict) else None)
    found = {str(t).strip().lower() for t in (from_data, from_conversation) if t}
    return found.pop() if len(found) == 1 else None


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
                # Unchanged since another process (or before a restart) stored it: left as it is, so its
                # time says when the chat was learnt, not when its person last wrote (a report sent
                # without a name must not be timed by it).
                stored = await load_reference(session, channel=TEAMS, person_id=person_id)
                if stored is None or json.dumps(stored, sort_keys=True) != canonical:
                    await save_reference(session, now=self.app.now(), channel=TEAMS, person_id=person_id,
                                         reference=kept)
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
