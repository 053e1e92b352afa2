"""Platform event ids recorded as they arrive; those arriving together share one transaction.

Slack and Teams resend an event they think we missed, so each id is recorded (durably)
before the event is acknowledged. One commit is one disk sync; when many events arrive at
once, one transaction records them all, and each is answered when it is on disk: a group
commit. A lone event goes at once, as before; under load the syncs no longer queue one
behind another (measured in bench/ack.py).
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.inbound import record_inbound

# SQLite allows 32,766 parameters in a statement; two per event, and a batch this size commits in milliseconds.
BATCH = 500

Waiting = tuple[str, str, "asyncio.Future[bool]"]


class InboundLedger:
    """Answers "handled before?" for each arriving event id, writing the ids that arrive together at once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._waiting: list[Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def seen(self, channel: str, event_id: str) -> bool:
        """Record this event id; True when it was recorded before (so skip it). Raises what the database raised."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((channel, event_id, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbound-ledger")
        return await asyncio.shield(answer)  # a caller that gives up does not stop the others' write

    async def _write(self) -> None:
        """Record what is waiting, a batch per transaction, until nothing is."""
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                async with self.sessions.begin() as session:
                    new = await record_inbound(session, [(channel, event_id) for channel, event_id, _ in batch])
            except BaseException as exc:  # every caller hears of the failure; none is left waiting
                for _, _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for channel, event_id, answer in batch:
                # The first of two copies in one batch is new; the second was seen (in this batch).
                first = (channel, event_id) in new
                new.discard((channel, event_id))
                if not answer.done():
                    answer.set_result(not first)
