"""The trust digest for the trust safeguarding lead, and each school's own digest, from a trust config."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from bot.digest.trust import render_trust, trust_figures, trust_key
from bot.digest.weekly import IsoWeek
from bot.examples import EXAMPLE_TRUST
from routing.trust import load_deployment
from routing.vocabulary import Subject
from storage.db import create_engine, sessionmaker
from storage.log import EventKind, append_event
from bot.scheduler import Scheduler
from storage.models import DigestDelivery
from tests.builders import Clock
from tests.integration.helpers import minutes
from tests.integration.trust_helpers import routed, school_report, two_schools

SCRIPT = Path(sys.executable).parent / "safeguard"
WEEK = IsoWeek(2026, 47)  # the week of tests.integration.helpers.NOW, Friday 20 November 2026
TRUST = load_deployment(EXAMPLE_TRUST)
# What the digests must never show: people's names and ids, words anyone wrote, references.
NEVER = ("Owen", "Brien", "obrien", "smorgan", "Kit Daly", "kdaly", "gmarsh", "cfinch", "made-up", "SG-")


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    """two_schools (bpa: one acknowledged in 5 min, one open; oak: one open), an escalation at oak,
    and a concern about BPA's headteacher that went to the chair of governors: nobody else's to count."""
    refs = await two_schools(sessions)
    async with sessions.begin() as session:
        about_head = await school_report(session, "bpa", 3, now=minutes(3), subject=Subject.HEADTEACHER)
        await routed(session, about_head, "bpa", now=minutes(3.01), owner=("kdaly", "chair_of_governors"))
        await append_event(session, now=minutes(61), actor="system", kind=EventKind.ESCALATED,
                           report_ref=refs["oak"][0], data={"step": 1, "to": ["jellis"]})


def run(*args: str, cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "DATABASE_URL": url}
    for name in ("SAFEGUARD_CONFIG", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        env.pop(name, None)  # the console only: the example trust's people have no Slack or Teams ids
    return subprocess.run([str(SCRIPT), "digest", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


async def test_the_trust_digest_shows_each_schools_week_and_nothing_that_names(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await seed(sessionmaker(engine))
    chart = tmp_path / "schools.png"
    done = await asyncio.to_thread(run, "--config", str(EXAMPLE_TRUST), "--week", WEEK.label, "--chart", str(chart),
                                   cwd=tmp_path, url=database_url)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("Safeguard trust digest: Bellevue Place Education Trust\n"
                           "Week 2026-W47, Mon 16 Nov to Sun 22 Nov 2026\n")
    assert ("\nBellevue Place Academy (BPA)\n- Reports: 2\n"
            "  - Social media misuse by a pupil, parent or member of staff: 1\n"
            "  - Inappropriate content accessed online: 1\n"
            "- Time to acknowledge: median 5 min, longest 5 min (1 of 2)\n"
            "- Overdue now: 1\n- Escalated: none\n") in text
    assert ("\nOakfield Lower School (OAK)\n- Reports: 1\n") in text
    assert "- Time to acknowledge: none acknowledged\n- Overdue now: 1\n- Escalated: 1 report (1 step up the ladder)\n" in text
    assert "\nHollins Cross Primary (HOL)\n- Reports: 0\n" in text
    assert text.endswith("\nAcross the trust: 3 reports, 2 overdue now\n")
    assert not [word for word in NEVER if word in text]
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_report_only_its_recipient_may_view_is_counted_for_them_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessions)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    lead = TRUST.person("mhale")
    chair = TRUST.person("kdaly")
    assert lead is not None and chair is not None
    theirs = await trust_figures(TRUST, sessions, WEEK, reader=lead, now=now)
    chairs = await trust_figures(TRUST, sessions, WEEK, reader=chair, now=now)
    assert [(s.code, s.reports, s.overdue) for s in theirs.schools] == [("bpa", 2, 1), ("hol", 0, 0), ("oak", 1, 1)]
    assert [(s.code, s.reports, s.overdue) for s in chairs.schools][0] == ("bpa", 3, 2)
    assert "SG-" not in render_trust(theirs)


async def test_each_schools_governor_digest_counts_its_own_school_only(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await seed(sessionmaker(engine))
    bpa = await asyncio.to_thread(run, "--config", str(EXAMPLE_TRUST), "--school", "bpa", "--week", WEEK.label,
                                  cwd=tmp_path, url=database_url)
    oak = await asyncio.to_thread(run, "--config", str(EXAMPLE_TRUST), "--school", "oak", "--week", WEEK.label,
                                  cwd=tmp_path, url=database_url)
    assert bpa.returncode == 0 and oak.returncode == 0, bpa.stderr + oak.stderr
    assert bpa.stdout.startswith("Safeguard weekly digest: Bellevue Place Academy\n")
    assert "Reports: 2 (previous weeks 0, 0, 0, 0)" in bpa.stdout and "SG-OAK" not in bpa.stdout
    assert "Escalations: none" in bpa.stdout
    assert "Reports: 1 (previous weeks 0, 0, 0, 0)" in oak.stdout and "SG-BPA" not in oak.stdout
    assert "Escalations: 1 on 1 report" in oak.stdout


async def test_send_queues_the_trust_digest_once_for_the_trust_safeguarding_lead(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await seed(sessionmaker(engine))
    first = await asyncio.to_thread(run, "--config", str(EXAMPLE_TRUST), "--week", WEEK.label, "--send",
                                    cwd=tmp_path, url=database_url)
    again = await asyncio.to_thread(run, "--config", str(EXAMPLE_TRUST), "--week", WEEK.label, "--send",
                                    cwd=tmp_path, url=database_url)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert first.stdout.endswith("Queued for the trust safeguarding lead on console.\n")
    assert "Already queued for the trust safeguarding lead on console at " in again.stdout
    async with sessionmaker(engine)() as session:
        rows = (await session.execute(select(DigestDelivery.school, DigestDelivery.person_id, DigestDelivery.text))).all()
    assert [(school, person) for school, person, _ in rows] == [(trust_key(TRUST), "mhale")]
    assert "Bellevue Place Academy (BPA)\n- Reports: 2\n" in rows[0][2]


async def test_two_servers_schedulers_queue_the_trust_digest_once_at_its_time(
    database_url: str, engine: AsyncEngine
) -> None:
    await seed(sessionmaker(engine))
    second = create_engine(database_url, keys=None)
    clock = Clock(datetime(2026, 11, 23, 7, 59, tzinfo=UTC))  # Monday, a minute before 08:00 in London
    school = TRUST.schools[0]
    schedulers = [Scheduler(App(school, sessionmaker(e), clock=clock), trust=TRUST) for e in (engine, second)]
    try:
        early = await schedulers[0].run_once()
        clock.advance(minutes=1, seconds=30)
        rounds = await asyncio.gather(*(scheduler.run_once() for scheduler in schedulers))
        later = await schedulers[1].run_once()
    finally:
        await second.dispose()
    assert early.trust_digests == () and later.trust_digests == ()
    assert sorted(r.trust_digests for r in rounds) == [(), ("mhale",)]
    async with sessionmaker(engine)() as session:
        rows = (await session.execute(select(DigestDelivery.school, DigestDelivery.week))).all()
    assert [tuple(row) for row in rows if row[0] == trust_key(TRUST)] == [(trust_key(TRUST), "2026-W47")]
    lone = Scheduler(App(school, sessionmaker(engine), clock=clock))
    assert lone.trust is None and (await lone.run_once()).trust_digests == ()


async def test_refusals_exit_2_with_a_clear_message(database_url: str, engine: AsyncEngine, tmp_path: Path) -> None:
    no_lead = tmp_path / "trust.yaml"
    no_lead.write_text(EXAMPLE_TRUST.read_text().replace("trust_safeguarding_lead", "chief_executive"))
    for name in ("schools",):
        (tmp_path / name).symlink_to(EXAMPLE_TRUST.parent / name)
    for args, message in (
        (["--config", str(EXAMPLE_TRUST), "--school", "xyz"], "--school xyz: no such school in"),
        (["--config", str(no_lead), "--week", WEEK.label, "--send"], "nobody among the trust's people holds "
                                                                     "trust_safeguarding_lead"),
    ):
        done = await asyncio.to_thread(run, *args, cwd=tmp_path, url=database_url)
        assert done.returncode == 2 and done.stdout == "" and message in done.stderr, (args, done.stderr)
