"""A trust's deployment at size, on PostgreSQL: report to alert at a phone user's pace, and one server process against two.

A generated trust of 50 schools and 5,000 staff (bench/generated_trust.py) is served by one
`safeguard serve` process, then by two on one database behind a round-robin balancer (each
request to the next process in turn, as a load balancer sends them). For each:

- paced: fifty teachers of the trust's schools each walk a pupil disclosure through the real
  dialog at a phone user's pace (0.5-1.5 s between an answer and the next tap) and tap Send,
  four times; the time from each Send to the DSL's alert reaching Slack's Web API (FakeSlack);
- flat out: the same teachers report with no pause, each starting the next report as soon as
  the last one's alert arrived, for a fixed time: completed reports a second (each one the
  dialog's twelve signed requests, the report stored and routed, and its alert sent).

Each configuration starts on a scratch database of its own, made on the PostgreSQL server the
benchmark is given (BENCH_DATABASE_URL, --postgres or TEST_DATABASE_URL) and dropped after.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.alert import WORDS
from bench.figures import Options, Section, percentile
from bench.generated_trust import GeneratedSchool, GeneratedTrust, Member, write_trust
from bench.fake_slack_server import fake_slack_here
from bench.processes import Server, scratch_database, start_safeguard
from storage.crypto import new_key
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.slack_rig import BalancedRig, Phone, find_button

SCHOOLS, STAFF = 50, 5000
REPORTERS = 50
REPORTS = 4  # paced reports per teacher
PAUSE = (0.5, 1.5)  # seconds between one answer arriving and the next tap
FLAT_OUT_SECONDS = 30.0
REFERENCE = re.compile(r"SG-(?:[A-Z0-9]+-)?\d{4}-\d{4,}")
# Each process's outbox: as a deployment runs it (the alert also goes at once, after the request that queued it).
SERVER_ENV = {"SAFEGUARD_OUTBOX_SECONDS": "10"}


def served(trust: GeneratedTrust) -> tuple[Path, tuple[GeneratedSchool, ...]]:
    """The config `safeguard serve` is given, and the schools it then serves: the whole trust."""
    return trust.trust_file, trust.schools


@dataclass
class Reporter:
    """A teacher reporting, and the DSL of their school whose alert they wait for."""

    phone: Phone
    dsl: Member


@dataclass
class Run:
    """One configuration's figures: paced Send-to-alert times, and the flat-out count over its time."""

    paced: list[float] = field(default_factory=list)
    reports: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.reports / self.seconds if self.seconds else 0.0


async def _report(reporter: Reporter, fake: FakeSlack, pause: tuple[float, float]) -> float:
    """Walk a pupil disclosure to Send, pausing between answers; the seconds from Send to the DSL's alert."""
    phone = reporter.phone
    steps: list[tuple[str, str]] = [
        ("type", "hi"), ("tap", "Pupil disclosure"), ("tap", "No"), ("tap", "The child is the victim"),
        ("type", "Mia Hart"), ("tap", "Skip"), ("type", WORDS), ("tap", "No"), ("tap", "In class"), ("tap", "No"),
        ("tap", "No"),
    ]
    for how, what in steps:
        await asyncio.sleep(random.uniform(*pause))
        await (phone.type(what) if how == "type" else phone.tap(what))
    await asyncio.sleep(random.uniform(*pause))
    summary = phone.latest()
    block, button = find_button(summary, "Send")
    before = len(phone.posts())
    loop = asyncio.get_running_loop()
    tapped = loop.time()
    answer = await phone.rig.interact(phone.action_payload(summary, block, button))
    if answer.status != 200:
        raise RuntimeError(f"Send was answered {answer.status}: {answer.body}")
    reference = await _until(lambda: next((m.group(0) for c in phone.posts()[before:]
                                           if (m := REFERENCE.search(str(c.args.get("text") or "")))), None),
                             f"{phone.person_id}'s receipt")
    arrived = await _until(lambda: next((c.at for c in fake.to("chat.postMessage", channel=reporter.dsl.dm)
                                         if reference in str(c.args.get("text") or "")), None),
                           f"the alert of {reference}")
    return float(arrived) - tapped


async def _until(found: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll `found()` until it gives something other than None (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := found()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"waited {timeout:g}s for {what}")
        await asyncio.sleep(0.02)
    return value


async def _paced(reporters: list[Reporter], fake: FakeSlack, reports: int, pause: tuple[float, float]) -> list[float]:
    async def one(reporter: Reporter) -> list[float]:
        return [await _report(reporter, fake, pause) for _ in range(reports)]

    return [t for times in await asyncio.gather(*(one(r) for r in reporters)) for t in times]


async def _flat_out(reporters: list[Reporter], fake: FakeSlack, seconds: float) -> tuple[int, float]:
    """Every teacher reports again as soon as the last alert arrived, until `seconds` have passed; reports, time taken."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + seconds

    async def one(reporter: Reporter) -> int:
        done = 0
        while loop.time() < end:  # the report under way is finished: no dialog is left half-walked
            await _report(reporter, fake, (0.0, 0.0))
            done += 1
        return done

    done = sum(await asyncio.gather(*(one(r) for r in reporters)))
    return done, loop.time() - start


async def _configuration(options: Options, processes: int, config: Path, schools: tuple[GeneratedSchool, ...],
                         sizes: tuple[int, int, tuple[float, float], float]) -> Run:
    """`processes` servers on one fresh database: the paced run, then the flat-out one."""
    reporters_wanted, reports, pause, seconds = sizes
    async with fake_slack_here() as (fake, fake_url):
        run = Run()
        async with scratch_database(options, f"p{processes}") as url:
            key = new_key()
            servers: list[Server] = []
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                    # Started together, as a deployment's servers are: they take turns to migrate.
                    servers += [start_safeguard(options.workdir, school=config, slack_api=f"{fake_url}/api/",
                                                database_url=url, key=key, extra_env=SERVER_ENV)
                                for _ in range(processes)]
                    await asyncio.gather(*(server.wait_ready(http) for server in servers))
                    rig = BalancedRig([s.url for s in servers], fake, http, fake_url)
                    # Teachers from every school served, in turn.
                    reporters = [Reporter(Phone(rig, t.person_id, t.slack), school.dsl)
                                 for n in range(reporters_wanted)
                                 for school in [schools[n % len(schools)]]
                                 for t in [school.teachers[n // len(schools)]]]
                    run.paced = await _paced(reporters, fake, reports, pause)
                    cpu = sum(s.cpu_seconds() for s in servers)
                    run.reports, run.seconds = await _flat_out(reporters, fake, seconds)
                    run.cpu_seconds = sum(s.cpu_seconds() for s in servers) - cpu
            finally:
                for server in servers:
                    server.stop()
    return run


async def _measure(options: Options) -> Section:
    section = Section("A trust on PostgreSQL: one server process and two")
    if options.postgres is None and not options.quick:
        print("scale: skipped: give a PostgreSQL server with BENCH_DATABASE_URL or --postgres "
              "(postgresql+asyncpg://USER@HOST:PORT/DB; a scratch database is made there and dropped)", file=sys.stderr)
        section.notes.append("skipped: no PostgreSQL server given (BENCH_DATABASE_URL or --postgres)")
        return section
    if options.quick:
        schools_made, staff, sizes = 2, 20, (3, 1, (0.0, 0.02), 1.0)
    else:
        schools_made, staff, sizes = SCHOOLS, STAFF, (REPORTERS, REPORTS, PAUSE, FLAT_OUT_SECONDS)
    trust = write_trust(options.workdir / "trust", schools=schools_made, staff=staff)
    config, schools = served(trust)
    runs = {n: await _configuration(options, n, config, schools, sizes) for n in (1, 2)}
    reporters, reports, pause, seconds = sizes
    for n, run in runs.items():
        label = "one process" if n == 1 else "two processes"
        section.add(f"{label}: report to alert at a phone user's pace, p50", percentile(run.paced, 0.5) * 1000, "ms")
        section.add(f"{label}: report to alert at a phone user's pace, p99", percentile(run.paced, 0.99) * 1000, "ms",
                    below=None if options.quick else 250)
        section.add(f"{label}: reports a second, flat out", run.per_second, "reports/s")
        section.add(f"{label}: server CPU per report, flat out", run.cpu_seconds / max(run.reports, 1) * 1000, "ms")
    section.add("throughput, two processes over one", runs[2].per_second / max(runs[1].per_second, 1e-9), "",
                at_least=None if options.quick else 1.6)
    backend = "PostgreSQL" if options.postgres else "SQLite (smoke run only)"
    section.notes.append(f"a generated trust of {schools_made} schools and {trust.staff} staff, the five presets "
                         f"taken in turn; served: {config.name} ({len(schools)} school{'s' if len(schools) > 1 else ''}), on {backend}, "
                         "each configuration on a fresh scratch database")
    section.notes.append(f"paced: {reporters} teachers side by side, {reports} pupil disclosures each, "
                         f"{pause[0]:g}-{pause[1]:g} s between an answer and the next tap; from each Send to the DSL's "
                         "alert reaching FakeSlack (in the bench's process, with the teachers' phones)")
    section.notes.append(f"flat out: the same teachers reporting with no pause for {seconds:g} s (each report's twelve "
                         "signed requests, storing, routing and the alert); two processes behind a round-robin "
                         "balancer, each request to the next process, on one database with one key and one config")
    return section


def measure(options: Options) -> Section:
    return asyncio.run(_measure(options))
