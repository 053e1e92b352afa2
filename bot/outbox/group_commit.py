"""Group commit: what many callers ask to have written at about the same moment goes in one transaction.

On SQLite every commit is a disk sync (about 2 ms here), taken one at a time. When many
writes arrive together (fifty reports sent at once, a burst of Slack events), writing them
one transaction each makes the last wait for every sync before it; here they share one.
A caller alone is written at once, as before; each caller is answered only when its write
is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

# Enough to take a burst in a few transactions, few enough that one commits in milliseconds.
BATCH = 500


class GroupCommit(Generic[Item, Answer]):
    """Writes the items waiting with `write` (one transaction for a batch), answering each caller with its result."""

    def __init__(self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Answer]]], *, batch: int = BATCH) -> None:
        self._write_batch = write
        self._batch = batch
        self._waiting: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Answer:
        """Have `item` written; its result once committed. Raises what the write raised."""
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="group-commit")
        return await asyncio.shield(answer)  # a caller that gives up does not stop the others' write

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self._batch], self._waiting[self._batch:]
            try:
                results = await self._write_batch([item for item, _ in batch])
            except BaseException as exc:  # every caller hears of the failure; none is left waiting
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, answer), result in zip(batch, results, strict=True):
                if not answer.done():
                    answer.set_result(result)
