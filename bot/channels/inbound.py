"""Platform event ids recorded as they arrive; those arriving together share one transaction.

Slack and Teams resend an event they think we missed, so each id is recorded (durably)
before the event is acknowledged. When many events arrive at once, one transaction records
them all (storage/group_commit.py), so under load the disk syncs no longer queue one behind
another (measured in bench/ack.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.group_commit import GroupCommit
from storage.inbound import record_inbound


class InboundLedger:
    """Answers "handled before?" for each arriving event id, writing the ids that arrive together at once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._writes: GroupCommit[tuple[str, str], bool] = GroupCommit(self._record)

    async def seen(self, channel: str, event_id: str) -> bool:
        """Record this event id; True when it was recorded before (so skip it). Raises what the database raised."""
        return await self._writes.submit((channel, event_id))

    async def _record(self, arrivals: Sequence[tuple[str, str]]) -> list[bool]:
        async with self.sessions.begin() as session:
            new = await record_inbound(session, arrivals)
        seen = []
        for arrival in arrivals:
            seen.append(arrival not in new)  # the first of two copies in one batch is new; the second was seen
            new.discard(arrival)
        return seen
