"""Group commit: what many callers ask to have written at about the same moment goes in one transaction.

The callers arriving while one transaction is written form the next: a caller alone waits for
no one, and under load the batches grow by themselves, with no timer to tune.

On SQLite every commit is a disk sync (about 2 ms here), taken one at a time. When many
writes arrive together (fifty reports sent at once, a burst of Slack events), writing them
one transaction each makes the last wait for every sync before it; here they share one.
A caller alone is written at once, as before; each caller is answered only when its write
is committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

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


class Together(Generic[Item, Answer]):
    """Items arriving together written in one transaction; if that fails, each in a transaction of its own.

    Each caller is answered with its own item's answer, or raised its own item's error, only
    once the transaction that holds its item has committed. One bad item never loses another:
    when writing a shared transaction fails, it is rolled back and every item in it written
    again alone, so only the item that fails alone is refused. A commit that fails is not
    written again (it may have committed: an item must not be stored twice); every caller
    in it hears the error, as a caller alone would.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 write: Callable[[AsyncSession, Item], Awaitable[Answer]], *, batch: int = BATCH) -> None:
        self._sessions = sessions
        self._write_one = write
        self._commits: GroupCommit[Item, Answer | Exception] = GroupCommit(self._write, batch=batch)

    async def submit(self, item: Item) -> Answer:
        """Have `item` written; its answer once committed. Raises what writing it raised."""
        answer = await self._commits.submit(item)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def _write(self, items: Sequence[Item]) -> list[Answer | Exception]:
        if len(items) > 1:
            written = False
            try:
                async with self._sessions.begin() as session:
                    answers: list[Answer | Exception] = [await self._write_one(session, item) for item in items]
                    written = True
                return answers
            except Exception:
                if written:
                    raise  # the commit failed: it may have committed, so nothing is written twice
                log.info("%d writes together failed; each is written alone", len(items))
        return [await self._alone(item) for item in items]

    async def _alone(self, item: Item) -> Answer | Exception:
        try:
            async with self._sessions.begin() as session:
                return await self._write_one(session, item)
        except Exception as exc:  # this item's own error, for its caller alone
            return exc
