"""Work in progress on a channel: counted, so a stopping server (or a test) can wait for it to finish."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)

# How long a stopping server lets work still under way finish (a report half stored, an alert half sent).
DRAIN_SECONDS = 10.0


class InFlight:
    """A count of work under way, and a way to wait until there is none."""

    def __init__(self) -> None:
        self._busy = 0
        self._idle = asyncio.Condition()
        self._queues: dict[str, asyncio.Task[None]] = {}

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

    def later(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` in a task of its own, counted from now, once the work queued under `key` before it is done.

        For what is left to do once a request is answered (a person's replies, posted after Slack
        has its acknowledgement): one person's go out in the order their messages came.
        """
        before = self._queues.get(key)
        self.begin()

        async def run() -> None:
            try:
                if before is not None:
                    await asyncio.wait([before])  # its failure was its own, and logged
                await work()
            except Exception:
                log.exception("work left after an acknowledgement failed")
            finally:
                if self._queues.get(key) is task:
                    del self._queues[key]
                await self.end()

        task = asyncio.create_task(run(), name="after-ack")
        self._queues[key] = task

    async def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no work is under way; False if some still was after `timeout` seconds."""
        async with self._idle:
            try:
                await asyncio.wait_for(self._idle.wait_for(lambda: self._busy == 0), timeout)
            except TimeoutError:
                return False
        return True
