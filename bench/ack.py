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
from dataclasses import dataclass, field

import aiohttp

from bench.figures import Options, Section, percentile
from bench.processes import Server, start_bare_bolt, start_fake_slack, start_safeguard
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


async def _send(http: aiohttp.ClientSession, url: str, teacher: Teacher, words: str) -> bool:
    try:
        return await post_signed(http, url, dm_message(teacher.slack, teacher.dm, words)) == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def paced(http: aiohttp.ClientSession, server: Server, senders: list[Teacher], seconds: float,
                rate: float = 1.0) -> Run:
    """Every sender sends `rate` messages a second for `seconds`, answered or not (open loop)."""
    run, url = Run(), f"{server.url}/slack/events"
    loop = asyncio.get_running_loop()
    start, cpu = loop.time() + 0.05, server.cpu_seconds()
    tasks: list[asyncio.Task[None]] = []

    async def one(teacher: Teacher, due: float, words: str) -> None:
        ok = await _send(http, url, teacher, words)
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
    run.seconds, run.cpu_seconds = loop.time() - start, server.cpu_seconds() - cpu
    return run


async def flat_out(http: aiohttp.ClientSession, server: Server, senders: list[Teacher], seconds: float) -> Run:
    """Every sender sends again as soon as it is answered, for `seconds` (closed loop)."""
    run, url = Run(), f"{server.url}/slack/events"
    loop = asyncio.get_running_loop()
    start, cpu = loop.time(), server.cpu_seconds()
    end = start + seconds

    async def sender(teacher: Teacher) -> None:
        for number in itertools.count():
            if loop.time() >= end:
                return
            sent = loop.time()
            if await _send(http, url, teacher, WORDS[number % len(WORDS)]):
                run.latencies.append(loop.time() - sent)
            else:
                run.failures += 1

    await asyncio.gather(*(sender(t) for t in senders))
    run.seconds, run.cpu_seconds = loop.time() - start, server.cpu_seconds() - cpu
    return run


async def settle(server: Server, quiet: float = 0.3) -> None:
    """Wait until the server has finished the work it took on (its CPU use stops growing)."""
    for _ in range(600):
        before = server.cpu_seconds()
        await asyncio.sleep(quiet)
        if server.cpu_seconds() - before < quiet * 0.05:
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
        finally:
            for server in reversed(servers):
                server.stop()
    section.notes.append(f"{seconds:g} s per load after {warm:g} s of warm-up; each server in its own process, "
                         "FakeSlack in a third, the senders in the bench's own process, all on 127.0.0.1")
    section.notes.append("paced: latency counted from when each message was due (no coordinated omission); "
                         "flat out: each sender waits for its answer, so p99 there is queueing, not service time")
    return section


def measure(options: Options) -> Section:
    return asyncio.run(_measure(options))
