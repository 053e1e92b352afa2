"""The scheduler: APScheduler in the server process runs the clocks that live in the database.

Every `every` seconds (and once at start, to catch up after downtime) it takes the escalation
steps that fell due, reminds owners of LADO consultations due, queues the weekly digest
when its moment has come, erases the words of closed reports whose retention period is up,
and forgets request forms left unfinished for a day and platform event ids no retry can follow;
a cron job also fires at the digest's own time, so it is not late
by a round. Nothing is kept only in the scheduler's memory: each job reads what is due from
the database and takes each step once, so two servers sharing one database can both run it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.digest.trust import SENT_AT, queue_due_trust_digest
from bot.digest.weekly import queue_due_digest
from bot.app import STORE_ERRORS, App
from bot.cases.escalation import Step, escalate_due, remind_lado_due
from bot.cases.retention import erase_due
from bot.cases.requests import forget_idle_forms, remind_due
from routing.trust import Trust
from storage.inbound import forget_inbound

log = logging.getLogger(__name__)

# Escalation deadlines are in minutes (15 at the tightest, rule 3): half a minute late at most.
EVERY_SECONDS = 30.0
CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Round:
    """What one round of the scheduler did."""

    escalated: tuple[Step, ...] = ()
    lado_reminded: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    trust_digests: tuple[str, ...] = ()  # the trust safeguarding leads newly queued the trust digest
    erased: tuple[str, ...] = ()  # closed reports whose words were erased under the school's retention rules
    requests_reminded: int = 0  # approval requests whose step waited past its time (bot.cases.requests)
    forms_forgotten: int = 0  # request forms left unfinished for a day (a report's draft: bot.cases.conversation.sweep)
    ids_forgotten: int = 0  # platform event ids past any retry of them (storage.inbound)


class Scheduler:
    """The server's clock jobs; `run_once` is one round, which tests call with a clock they move by hand."""

    def __init__(self, app: App, *, every: float = EVERY_SECONDS, trust: Trust | None = None) -> None:
        self.app = app
        self.every = every
        trust = trust if trust is not None else app.trust
        self.trust = trust if not trust.alone else None  # a trust's server also queues its digest
        self._round = asyncio.Lock()  # one round at a time in this process
        self._scheduler: AsyncIOScheduler | None = None

    async def run_once(self) -> Round:
        """Take every step due now: escalations, LADO reminders, the weekly digest, erasures under retention."""
        async with self._round:
            escalated = await escalate_due(self.app)
            lado = await remind_lado_due(self.app)
            digests: list[str] = []
            for school in self.app.views():  # each school's governor lead gets their own school's digest
                try:
                    digests += await queue_due_digest(school)
                except STORE_ERRORS:
                    log.exception("could not queue the weekly digest of %s; it is tried again next round",
                                  school.school.key)
            trust = await self._trust_digest()
            # Each report is erased once: its row is locked and marked, so a second server finds it done.
            erased = await erase_due(self.app)
            try:
                reminded = await remind_due(self.app)
            except STORE_ERRORS:
                log.exception("could not remind approvers of waiting requests; tried again next round")
                reminded = 0
            forms, ids = await self._forget()
            return Round(tuple(escalated), tuple(lado), tuple(digests), tuple(trust), tuple(erased), reminded,
                         forms, ids)

    async def _forget(self) -> tuple[int, int]:
        """Forget what is kept only for a while: request forms idle a day (they may name people), old event ids."""
        try:
            async with self.app.sessions.begin() as session:
                forms = await forget_idle_forms(session, now=self.app.now())
                # Real time, not the app's clock: the ids are kept against the platforms' own retries.
                ids = await forget_inbound(session, now=datetime.now(UTC))
        except STORE_ERRORS:
            log.exception("could not forget idle request forms and old event ids; tried again next round")
            return 0, 0
        return forms, ids

    async def _trust_digest(self) -> list[str]:
        """Queue the trust digest when due: once a week per reader, whichever server gets there first."""
        if self.trust is None:
            return []
        try:
            return await queue_due_trust_digest(self.trust, self.app.sessions, channels=self.app.channels,
                                                now=self.app.now())
        except STORE_ERRORS:
            log.exception("could not queue the trust digest; it is tried again next round")
            return []

    async def _job(self) -> None:
        try:
            await self.run_once()
        except Exception:  # a bug must not stop escalation for good: log it, the next round tries again
            log.exception("a scheduler round failed")

    def start(self) -> None:
        """Start the jobs in the running event loop; the first round runs at once (catching up)."""
        zone = self.app.zone
        scheduler = AsyncIOScheduler(timezone=zone)
        options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(self._job, IntervalTrigger(seconds=self.every, timezone=zone), id="clocks",
                          next_run_time=datetime.now(zone), **options)  # real time: APScheduler's own
        for number, when in enumerate(dict.fromkeys(view.school.digest for view in self.app.views())):
            scheduler.add_job(self._job, CronTrigger(day_of_week=CRON_DAYS[when.day], hour=when.at.hour,
                                                     minute=when.at.minute, timezone=zone),
                              id="digest" if number == 0 else f"digest-{number}", **options)
        if self.trust is not None:
            day, at = SENT_AT
            scheduler.add_job(self._job, CronTrigger(day_of_week=CRON_DAYS[day], hour=at.hour, minute=at.minute,
                                                     timezone=self.trust.timezone), id="trust_digest", **options)
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop the jobs, letting a round under way finish (its steps commit or roll back whole)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._round:
            pass
