"""How fast `safeguard serve` acknowledges Slack events, beside a bare slack-bolt app, in the same run.

Each sender is a member of staff typing into their DM with the bot: a signed `message.im`
event, whose dialog step Safeguard stores with the event's id (to handle Slack's retries once)
before it answers, then posts the reply in the background. Two ways to load a server:

- paced: every sender types once a second (a phase of its own), whether or not earlier
  messages were answered, so a slow server cannot slow the load down. The latency of each
  request is counted from when it was due, not when it went. This is the latency figure.
- flat out: every sender sends its next message as soon as the last is answered. This gives
  the most a server can take (its throughput); latency then is only queueing (Little's law:
  senders / throughput), so it is shown but not read against the target.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.figures import Options, Section, percentile
from bench.processes import Server, scratch_database, start_bare_bolt, start_fake_slack, start_safeguard
from storage.crypto import new_key
from bench.school import Teacher, teachers, write_school
from bench.signed import dm_message, post_signed

LEVELS = (50, 200)
WORDS = ("hi", "I need to report something", "She showed me messages from someone online", "yes", "2")


@dataclass
class Run:
    """One load on one server: each answer's latency (seconds), failures, time, and the server's CPU."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


def _fleet(server: Server | Sequence[Server]) -> list[Server]:
    """One server, or several serving one database (each sender keeps to one of them, as a session would)."""
    return [server] if isinstance(server, Server) else list(server)


def _cpu(servers: Sequence[Server]) -> float:
    return sum(s.cpu_seconds() for s in servers)


async def _send(http: aiohttp.ClientSession, url: str, teacher: Teacher, words: str) -> bool:
    try:
        return await post_signed(http, url, dm_message(teacher.slack, teacher.dm, words)) == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def paced(http: aiohttp.ClientSession, server: Server | Sequence[Server], senders: list[Teacher],
                seconds: float, rate: float = 1.0) -> Run:
    """Every sender sends `rate` messages a second for `seconds`, answered or not (open loop)."""
    run, servers = Run(), _fleet(server)
    loop = asyncio.get_running_loop()
    start, cpu = loop.time() + 0.05, _cpu(servers)
    tasks: list[asyncio.Task[None]] = []
    url_of = {t.person_id: f"{servers[i % len(servers)].url}/slack/events" for i, t in enumerate(senders)}

    async def one(teacher: Teacher, due: float, words: str) -> None:
        ok = await _send(http, url_of[teacher.person_id], teacher, words)
        if ok:
            run.latencies.append(loop.time() - due)
        else:
            run.failures += 1

    async def sender(teacher: Teacher, phase: float) -> None:
        for number in itertools.count():
            due = start + phase + number / rate
            if due - start >= seconds:
                return
            await asyncio.sleep(max(0.0, due - loop.time()))
            tasks.append(asyncio.create_task(one(teacher, due, WORDS[number % len(WORDS)])))

    await asyncio.gather(*(sender(t, random.random() / rate) for t in senders))
    await asyncio.gather(*tasks)
    run.seconds, run.cpu_seconds = loop.time() - start, _cpu(servers) - cpu
    return run


async def flat_out(http: aiohttp.ClientSession, server: Server | Sequence[Server], senders: list[Teacher],
                   seconds: float) -> Run:
    """Every sender sends again as soon as it is answered, for `seconds` (closed loop)."""
    run, servers = Run(), _fleet(server)
    loop = asyncio.get_running_loop()
    start, cpu = loop.time(), _cpu(servers)
    end = start + seconds

    async def sender(teacher: Teacher, url: str) -> None:
        for number in itertools.count():
            if loop.time() >= end:
                return
            sent = loop.time()
            if await _send(http, url, teacher, WORDS[number % len(WORDS)]):
                run.latencies.append(loop.time() - sent)
            else:
                run.failures += 1

    await asyncio.gather(*(sender(t, f"{servers[i % len(servers)].url}/slack/events") for i, t in enumerate(senders)))
    run.seconds, run.cpu_seconds = loop.time() - start, _cpu(servers) - cpu
    return run


async def settle(server: Server | Sequence[Server], quiet: float = 0.3) -> None:
    """Wait until the servers have finished the work they took on (their CPU use stops growing)."""
    servers = _fleet(server)
    for _ in range(600):
        before = _cpu(servers)
        await asyncio.sleep(quiet)
        if _cpu(servers) - before < quiet * 0.05 * len(servers):
            return


def _report(section: Section, name: str, level: int, how: str, run: Run, *, target: bool) -> None:
    label = f"{name}, {level} senders, {how}"
    if target:
        section.add(f"{label}: p50", run.ms(0.50), "ms")
        section.add(f"{label}: p99", run.ms(0.99), "ms", below=100 if name == "safeguard" and level == 200 else None)
    else:
        section.add(f"{label}: p50", run.ms(0.50), "ms")
        section.add(f"{label}: p99", run.ms(0.99), "ms")
    section.add(f"{label}: answered per second", run.per_second, "req/s")
    section.add(f"{label}: server CPU per request", run.cpu_seconds / max(len(run.latencies), 1) * 1000, "ms")
    if run.failures:
        section.notes.append(f"{label}: {run.failures} requests failed or were not answered 200")


async def _measure(options: Options) -> Section:
    section = Section("Slack event acknowledgement")
    seconds, warm = (1.0, 0.3) if options.quick else (15.0, 3.0)
    levels = (5, 20) if options.quick else LEVELS
    staff = teachers(max(levels))
    school = write_school(options.workdir / "ack-school.yaml", staff)
    fake = start_fake_slack(options.workdir)
    servers: list[Server] = [fake]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        try:
            await fake.wait_ready(http)
            api = f"{fake.url}/api/"
            bare = start_bare_bolt(options.workdir, slack_api=api)
            safeguard = start_safeguard(options.workdir, school=school, slack_api=api)
            servers += [bare, safeguard]
            for server in (bare, safeguard):
                await server.wait_ready(http)
                await paced(http, server, staff[:max(levels)], warm)  # bolt's auth.test, connections, caches
                await settle(server)
            for level in levels:
                runs: dict[str, Run] = {}
                for name, server in (("bare slack-bolt", bare), ("safeguard", safeguard)):
                    run = await paced(http, server, staff[:level], seconds)
                    await settle(server)
                    _report(section, name, level, "paced 1/s each", run, target=True)
                for name, server in (("bare slack-bolt", bare), ("safeguard", safeguard)):
                    runs[name] = await flat_out(http, server, staff[:level], seconds)
                    await settle(server)
                    _report(section, name, level, "flat out", runs[name], target=False)
                ratio = runs["safeguard"].per_second / max(runs["bare slack-bolt"].per_second, 1e-9)
                section.add(f"throughput ratio, safeguard / bare slack-bolt, {level} senders", ratio, "",
                            at_least=0.7 if level == 200 else None)
            if options.postgres is not None:
                await _on_postgres(options, section, http, school=school, api=api, staff=staff,
                                   levels=levels, seconds=seconds, warm=warm)
        finally:
            for server in reversed(servers):
                server.stop()
    section.notes.append(f"{seconds:g} s per load after {warm:g} s of warm-up; each server in its own process, "
                         "FakeSlack in a third, the senders in the bench's own process, all on 127.0.0.1")
    section.notes.append("paced: latency counted from when each message was due (no coordinated omission); "
                         "flat out: each sender waits for its answer, so p99 there is queueing, not service time")
    if options.postgres is not None:
        section.notes.append("PostgreSQL: each configuration on a scratch database of its own; with two processes (one "
                             "key, one config, one database) each sender keeps to one of them, half the senders each")
    return section


async def _on_postgres(options: Options, section: Section, http: aiohttp.ClientSession, *, school: Path, api: str,
                       staff: list[Teacher], levels: Sequence[int], seconds: float, warm: float) -> None:
    """The same loads on PostgreSQL: one `safeguard serve` process, then two on one database; two over one, flat out."""
    flat: dict[tuple[int, int], Run] = {}
    for processes in (1, 2):
        label = "PostgreSQL, " + ("one process" if processes == 1 else "two processes")
        key = new_key()  # servers sharing a database share its key
        async with scratch_database(options, f"ack{processes}") as url:
            servers = [start_safeguard(options.workdir, school=school, slack_api=api, database_url=url, key=key)
                       for _ in range(processes)]
            try:
                await asyncio.gather(*(server.wait_ready(http) for server in servers))
                await paced(http, servers, staff[:max(levels)], warm)
                await settle(servers)
                for level in levels:
                    run = await paced(http, servers, staff[:level], seconds)
                    await settle(servers)
                    _report(section, label, level, "paced 1/s each", run, target=False)
                    flat[processes, level] = await flat_out(http, servers, staff[:level], seconds)
                    await settle(servers)
                    _report(section, label, level, "flat out", flat[processes, level], target=False)
            finally:
                for server in servers:
                    server.stop()
    for level in levels:
        ratio = flat[2, level].per_second / max(flat[1, level].per_second, 1e-9)
        section.add(f"PostgreSQL, throughput flat out, two processes over one, {level} senders", ratio, "")


def measure(options: Options) -> Section:
    return asyncio.run(_measure(options))
