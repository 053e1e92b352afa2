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
        team = str(body.get("team_id") or "")
        if self.install is None:
            log.warning("Slack workspace %s removed the app: Slack will refuse every message until it is installed "
                        "again and SLACK_BOT_TOKEN is set to its new token", team)
            return
        await self.install.workspaces.store.async_delete_all(enterprise_id=None, team_id=team)
        log.warning("Slack workspace %s removed the app: its token is deleted, and its schools' staff are reached "
                    "on Slack again once it is installed again (/slack/install)", team)

    async def revoked(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        team = str(body.get("team_id") or "")
        tokens = (body.get("event") or {}).get("tokens") or {}
        if not tokens.get("bot"):
            return  # user tokens only: Safeguard asks for none
        if self.install is None:
            log.warning("Slack workspace %s revoked the bot's token: Slack will refuse every message until "
                        "SLACK_BOT_TOKEN is set to a new one", team)
            return
        # Safeguard installs bot-only: without its bot token an installation is of no use, and its row holds the token too.
        await self.install.workspaces.store.async_delete_all(enterprise_id=None, team_id=team)
        log.warning("Slack workspace %s revoked the bot's token: it is deleted; install the app there again "
                    "(/slack/install)", team)
