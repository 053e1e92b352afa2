"""A reporter's Send, shown in order: the summary they tapped marked sent, then their receipt; the DSL's alert first.

When a report is sent, the listener that took the tap starts the outbox round for it at once
(issue 24). Were it to edit the tapped summary first, as it did, the DSL's alert waited behind
that edit, and in a burst behind fifty of them, all spending the same server's time. So the
edit is handed to the round: it is made just before the reporter's receipt is posted, after the
alerts (a round starts alerts first, bot/outbox/delivery.py). The reporter still sees their
summary marked sent, then where it went; the DSL's alert waits for no reporter's screen.

Only this process knows of an edit handed over: the listener makes it itself if no round of
this process took it (the receipt went from another server, or not yet), once its round is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

log = logging.getLogger(__name__)

# How long a receipt waits for the listener still answering its reporter's tap to hand over the edit.
HOLD_SECONDS = 5.0

Mark = Callable[[], Awaitable[None]]


class SentMarks:
    """The edits of tapped summaries waiting for their reporter's receipt, by person id."""

    def __init__(self) -> None:
        self._answering: dict[str, asyncio.Event] = {}
        self._marks: dict[str, Mark] = {}

    @contextlib.contextmanager
    def answering(self, person_id: str) -> Iterator[None]:
        """While a listener answers this person's tap (the report stored and routed), their receipt waits for it."""
        held = self._answering[person_id] = asyncio.Event()
        try:
            yield
        finally:
            held.set()
            if self._answering.get(person_id) is held:
                del self._answering[person_id]

    def hand_over(self, person_id: str, mark: Mark) -> None:
        """Have `mark` (the summary's edit) made just before this person's next receipt goes."""
        self._marks[person_id] = mark

    async def left_over(self, person_id: str) -> None:
        """Make this person's edit now if no round made it (called by its listener once its round is over)."""
        mark = self._marks.pop(person_id, None)
        if mark is not None:
            await mark()

    async def before_receipt(self, person_id: str) -> None:
        """Before a receipt to this person: wait for the listener answering their tap, then make its edit."""
        held = self._answering.get(person_id)
        if held is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.wait(), HOLD_SECONDS)
        mark = self._marks.pop(person_id, None)
        if mark is None:
            return
        try:
            await mark()
        except Exception:  # cosmetic: never a reason for the receipt not to go
            log.exception("could not mark a sent summary before its receipt")
