"""A workspace removing the app, or its admin revoking the bot's token: the token is forgotten, and it is said.

With one app in several workspaces (bot/channels/slack/install.py), each workspace's bot token
is kept in our database, encrypted. Once a school removes the app from its workspace, the token
is of no use to anyone and is deleted at once (slack_sdk's store, as bolt's own revocation
listeners do); the school's staff are then reached on Slack only after it is installed again.
With one workspace and a token in the environment there is nothing stored to delete, but the
IT admin needs to know that Slack will refuse every message until a new token is set: the log
says so, by the workspace's id alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.channels.slack.install import Install

log = logging.getLogger(__name__)

Body = dict[str, Any]
Listener = Callable[[AsyncAck, Body], Awaitable[None]]
On = Callable[[str, str, Callable[..., Any], Listener], None]

UNINSTALLED = "app_uninstalled"
REVOKED = "tokens_revoked"


class UninstallHandlers:
    """`app_uninstalled` and `tokens_revoked`: the workspace's stored tokens deleted (several workspaces), or a warning."""

    def __init__(self, install: Install | None) -> None:
        self.install = install

    def register(self, on: On, event: Callable[[str], Callable[..., Any]]) -> None:
        on("events", UNINSTALLED, event(UNINSTALLED), self.uninstalled)
        on("events", REVOKED, event(REVOKED), self.revoked)

    async def uninstalled(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        await self._forget(str(body.get("team_id") or ""), "removed the app")

    async def revoked(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        tokens = (body.get("event") or {}).get("tokens") or {}
        if tokens.get("bot"):  # user tokens only: Safeguard asks for none
            await self._forget(str(body.get("team_id") or ""), "revoked the bot's token")

    async def _forget(self, team: str, what: str) -> None:
        """Delete the workspace's stored token and installation (bot-only, one is no use without the other); say so."""
        if self.install is None:
            log.warning("Slack workspace %s %s: Slack will refuse every message until SLACK_BOT_TOKEN is set to a "
                        "new token (installing the app again gives one)", team, what)
            return
        await self.install.workspaces.store.async_delete_all(enterprise_id=None, team_id=team)
        log.warning("Slack workspace %s %s: its token is deleted, and its schools' staff are reached on Slack "
                    "again once the app is installed there again (/slack/install)", team, what)
