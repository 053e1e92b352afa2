"""One delivery round, the same on every chat channel: the notices waiting, then the digests waiting.

Each channel knows how to send one notice and one digest, and what its platform's errors
mean; what they share is here: the order, the back-off after a failure that can pass, the
pause when the platform says to slow down (HTTP 429 with Retry-After), and giving up, and
telling the DSL, when the platform says a message never can be delivered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from bot.outbox import digest_delivery, notices
from bot.app import STORE_ERRORS, App
from storage.group_commit import GroupCommit
from storage.alerts import release
from storage.sealed_reporters import is_handle
from storage.models import AlertDelivery, DigestDelivery, NoticeKind

log = logging.getLogger(__name__)

# Back-off after a failure that can pass (a network error, a 5xx): 10 s, 20 s, 40 s ... at most
# 15 minutes, so an alert waits at most that long after the platform is back.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(minutes=15)
# How many messages a round sends side by side (each person's about one report still go in order).
PARALLEL = 8
# A 429 without a Retry-After: Slack's own advice is to wait and try again; a minute is polite.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Delivered:
    """The message reached the platform; `external_ref` finds it again (to update an alert)."""

    external_ref: str | None = None


@dataclass(frozen=True)
class Failure:
    """A send that did not go, as the channel's sender read its platform's answer."""

    error: str
    # The platform says it never can be delivered (user not found, bot removed): give up, tell the DSL.
    permanent: bool = False
    # The platform asked us to wait this many seconds before sending anything more (HTTP 429).
    retry_after: float | None = None


Outcome = Delivered | Failure
SendNotice = Callable[[notices.Notice], Awaitable[Outcome]]
SendDigest = Callable[[digest_delivery.QueuedDigest], Awaitable[Outcome]]


class Rounds:
    """One delivery round at a time on a channel, and no more rounds than callers need.

    A caller asks for a round after queuing something; it returns once a round that began
    after the call has finished, so what it queued has been tried. Callers that arrive while
    a round runs share the next one: under load (every message a reporter sends asks), the
    outbox is read once per round, not once per message (measured in bench/ack.py).
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = asyncio.Lock()
        self._started = 0
        self._reports_queued = -1  # app.reports_queued when the last round began

    @property
    def reports_queued(self) -> int:
        """`App.reports_queued` when the last round began: a round now would find the reports sent since."""
        return self._reports_queued

    async def run(self, deliver: Callable[[], Awaitable[int]], *, only_new_reports: bool = False) -> int:
        """Run `deliver` unless a round that began after this call has already finished; how many it sent.

        With `only_new_reports` (after a dialog message), also not unless a report was sent in
        this process since the last round began: nothing else a dialog does queues anything.
        """
        wanted = self._started + 1
        async with self._lock:
            if self._started >= wanted:
                return 0  # a round began after we asked, and has finished: what we queued was tried
            if only_new_reports and self.app.reports_queued == self._reports_queued:
                return 0
            self._started += 1
            self._reports_queued = self.app.reports_queued
            return await deliver()


def retry_at(now: datetime, attempts: int) -> datetime:
    """When to try again after `attempts` failed attempts: doubling from FIRST_RETRY, capped."""
    delay = FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16))
    return now + min(delay, LONGEST_RETRY)


async def deliver_round(app: App, channel: str, send_notice: SendNotice, send_digest: SendDigest) -> int:
    """Send every notice, then every weekly digest, due on `channel`; how many went.

    A failure that can pass is tried again after a back-off; a rate limit hands back the rest
    of the round until the platform's Retry-After; a permanent failure is given up on and the
    DSL is told.
    """
    try:
        waiting = await notices.pending(app, channel)
    except STORE_ERRORS:
        log.exception("could not read the %s outbox", channel)
        waiting = []
    sent, quiet = await _drain(app, channel, waiting, send_notice, NOTICES)
    if quiet:
        return sent  # the digests wait too: the platform asked for quiet
    try:
        digests = await digest_delivery.claim(app, channel)
    except STORE_ERRORS:
        log.exception("could not read the %s digest outbox", channel)
        digests = []
    return sent + (await _drain(app, channel, digests, send_digest, DIGESTS))[0]


class Item(Protocol):
    """A message claimed from an outbox: who it is for, and how often it was tried."""

    @property
    def person_id(self) -> str: ...

    @property
    def attempts(self) -> int: ...

    @property
    def queued_at(self) -> datetime | None: ...


T = TypeVar("T", bound=Item)


@dataclass(frozen=True)
class Book(Generic[T]):
    """How one outbox records what became of its messages."""

    model: type[AlertDelivery] | type[DigestDelivery]
    row_id: Callable[[T], int]
    label: Callable[[T], str]
    kind: Callable[[T], str]  # what GET /metrics counts it as: a NoticeKind, or "digest"
    delivered: Callable[[App, Sequence[tuple[T, str | None]]], Awaitable[None]]  # in one transaction
    failed: Callable[[App, T, str, datetime | None], Awaitable[None]]
    give_up: Callable[[App, T, str], Awaitable[None]]
    # The messages that must arrive in the order they were queued: one person's about one thing.
    in_order: Callable[[T], Hashable]
    # Started before the rest of a round: what staff must act on, ahead of news for reporters.
    urgent: Callable[[T], bool]


NOTICES: Book[notices.Notice] = Book(
    AlertDelivery, lambda n: n.delivery_id, lambda n: f"{n.kind} {n.reference}", lambda n: n.kind.value,
    notices.delivered_all, notices.failed, notices.give_up,
    lambda n: (n.person_id, n.reference), lambda n: n.kind is NoticeKind.ALERT,
)
DIGESTS: Book[digest_delivery.QueuedDigest] = Book(
    DigestDelivery, lambda d: d.digest_id, lambda d: f"the {d.week} digest", lambda d: "digest",
    digest_delivery.delivered_all, digest_delivery.failed, digest_delivery.give_up,
    lambda d: d.person_id, lambda d: False,
)


async def _drain(
    app: App, channel: str, items: Sequence[T], send: Callable[[T], Awaitable[Outcome]], book: Book[T],
) -> tuple[int, bool]:
    """Send `items`, recording each outcome; how many went, and whether the platform asked for quiet.

    A person's messages about one report go in order, one after another (an alert before the
    news that it was acknowledged); the rest go side by side, up to PARALLEL at a time, alerts
    first. Fifty reports sent at once are fifty alerts to one DSL: in one line, one person's
    queue, the last waited for the forty-nine before it (bench/burst.py). When the platform asks
    for quiet (a 429: Slack limits posts to a channel), nothing more is started, what was in
    flight is recorded as its answer says, and what was not tried is handed back until its
    Retry-After; each message is still claimed by one round and posted once.
    """
    queues: dict[Hashable, list[T]] = {}
    for item in items:
        queues.setdefault(book.in_order(item), []).append(item)
    ordered = sorted(queues.values(), key=lambda queue: not book.urgent(queue[0]))  # stable: oldest first within
    gate = asyncio.Semaphore(PARALLEL)
    # What went is recorded in shared transactions (storage/group_commit.py), and a person's next
    # message does not wait for the last one's record: one disk sync per message held up the
    # DSL's alerts when fifty reports were sent at once. The round ends when all are recorded.
    async def record(sent: Sequence[tuple[T, str | None]]) -> list[None]:
        await book.delivered(app, sent)
        return [None] * len(sent)

    recorded: GroupCommit[tuple[T, str | None], None] = GroupCommit(record)
    recording: list[asyncio.Task[None]] = []
    untried: list[T] = []
    sent = 0
    quiet: datetime | None = None

    async def send_in_order(queue: list[T]) -> None:
        nonlocal sent, quiet
        async with gate:
            for index, item in enumerate(queue):
                if quiet is not None:
                    untried.extend(queue[index:])
                    return
                outcome = _sealed(item, await send(item))
                if isinstance(outcome, Delivered):
                    recording.append(asyncio.create_task(recorded.submit((item, outcome.external_ref))))
                    sent += 1
                    app.metrics.sent(channel, book.kind(item), item.queued_at, app.now())
                    continue
                app.metrics.send_failed(channel, book.kind(item), permanent=outcome.permanent)
                log.warning("%s to %s on %s not sent: %s", book.label(item), item.person_id, channel, outcome.error)
                if outcome.retry_after is not None:
                    until = _after(app, outcome.retry_after)
                    quiet = until if quiet is None else max(quiet, until)
                    await book.failed(app, item, outcome.error, until)
                    untried.extend(queue[index + 1:])
                    return
                if outcome.permanent:
                    await book.give_up(app, item, outcome.error)
                else:
                    await book.failed(app, item, outcome.error, retry_at(app.now(), item.attempts + 1))

    await asyncio.gather(*(send_in_order(queue) for queue in ordered))
    await asyncio.gather(*recording)
    if quiet is not None:
        await _release(app, book.model, [book.row_id(rest) for rest in untried], quiet)
    return sent, quiet is not None


async def _release(app: App, model: type[AlertDelivery] | type[DigestDelivery], ids: list[int], until: datetime) -> None:
    """Hand back messages claimed but not tried this round (the platform asked us to wait until `until`)."""
    if not ids:
        return
    try:
        async with app.sessions.begin() as session:
            await release(session, model, ids, retry_at=until)
    except STORE_ERRORS:
        log.exception("could not hand back %d messages; their claims run out instead", len(ids))


SEALED_FAILURE = "the reporter's chat could not be reached (its details are not kept: sent without their name)"


def _sealed(item: Item, outcome: Outcome) -> Outcome:
    """A failure sending to a report's handle, without the platform's words (they may carry the reporter's chat id)."""
    if isinstance(outcome, Failure) and is_handle(item.person_id):
        return replace(outcome, error=SEALED_FAILURE)
    return outcome


def _after(app: App, seconds: float) -> datetime:
    # A platform's Retry-After is trusted within reason: never negative, never more than the longest back-off.
    return app.now() + min(timedelta(seconds=max(seconds, 0.0)), LONGEST_RETRY)
