"""Work in progress on a channel: counted, so a stopping server (or a test) can wait for it to finish."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

# How long a stopping server lets work still under way finish (a report half stored, an alert half sent).
DRAIN_SECONDS = 10.0


class InFlight:
    """A count of work under way, and a way to wait until there is none."""

    def __init__(self) -> None:
        self._busy = 0
        self._idle = asyncio.Condition()

    def begin(self) -> None:
        """Count work now (before its task starts, so `idle` cannot miss it)."""
        self._busy += 1

    async def end(self) -> None:
        """Uncount work that has finished."""
        self._busy -= 1
        async with self._idle:
            self._idle.notify_all()

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Count the work done inside this block."""
        self.begin()
        try:
            yield
        finally:
            await self.end()

    async def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no work is under way; False if some still was after `timeout` seconds."""
        async with self._idle:
            try:
                await asyncio.wait_for(self._idle.wait_for(lambda: self._busy == 0), timeout)
            except TimeoutError:
                return False
        return True
