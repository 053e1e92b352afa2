"""What the Slack listeners need of their channel, as a type: they are given it, never import it.

The channel builds the listeners and the listeners answer through the channel; were each to
import the other, neither could be read or tested alone. `SlackChannel` has all of this, so it
is what the listeners get, but they know it only by this shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.channels.slack.install import Install
from bot.channels.slack.outbox import Outbox
from routing.school import Person


@dataclass
class Registered:
    """What the bolt app was told to listen for, named as the manifest names it."""

    events: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    shortcuts: set[str] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)
    views: set[str] = field(default_factory=set)


class SlackHost(Protocol):
    """The channel as its listeners see it: the bolt app, the clients, the outbox, and its work."""

    app: App
    bolt: AsyncApp
    client: AsyncWebClient
    outbox: Outbox
    registered: Registered
    install: Install | None  # one app in several workspaces; None with one workspace's token

    def person(self, slack_id: str | None) -> Person | None:
        """The school's person with this Slack user id."""

    def lock(self, person_id: str) -> asyncio.Lock:
        """One message at a time per person."""

    def working(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Count a listener at work."""

    def later(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Do `work` once Slack has its answer, counted as work, after what was left to do under `key` before."""
