"""What a Teams turn needs of its channel, as a type: the handlers are given it, never import it.

The channel builds the bot and the bot answers the channel's turns; were each to import the
other, neither could be read or tested alone. `TeamsChannel` has all of this, so it is what the
handlers get, but they know it only by this shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, Protocol

from bot.app import App
from bot.channels.inbound import InboundLedger
from bot.channels.teams.outbox import Outbox
from bot.channels.teams.people import Directory, References


class TeamsHost(Protocol):
    """The channel as a turn sees it: who people are, where their chats are, the outbox, and its work."""

    app: App
    directory: Directory
    references: References
    inbound: InboundLedger
    outbox: Outbox

    def lock(self, person_id: str) -> asyncio.Lock:
        """One activity at a time per person."""

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` after the turn, counted for shutdown."""

    async def after_acknowledge(self, reference: str) -> None:
        """Every Teams alert of the report shows the acknowledgement; then the reporter's news goes."""

    def working(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Count a turn at work."""
