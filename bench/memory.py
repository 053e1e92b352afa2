"""The server's resident memory with 10,000 half-finished dialogs.

Ten thousand teachers each start a report in their DM by naming what they are reporting
("Pupil disclosure"), which stores a draft and asks the next question, and go no further.
The server's resident set size is read from /proc before and after; the drafts are counted
in the database, so the figure is known to be of 10,000 open dialogs. First, the idle server
with the example school alone (issue 24: under 150 MB).
"""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp

from bench.ack import settle
from bench.figures import Options, Section
from bench.processes import start_fake_slack, start_safeguard
from bench.school import teachers, write_school
from bench.signed import dm_message, post_signed
from bot.examples import EXAMPLE_SCHOOL

DIALOGS = 10_000
AT_ONCE = 50  # senders at a time, so the run measures memory, not a queue of requests


async def _count(http: aiohttp.ClientSession, fake_url: str, method: str) -> int:
    async with http.get(f"{fake_url}/bench/counts") as response:
        return int((await response.json()).get(method, 0))


async def _measure(options: Options) -> Section:
    section = Section("Memory with half-finished dialogs")
    dialogs = 200 if options.quick else DIALOGS
    staff = teachers(dialogs)
    school = write_school(options.workdir / "memory-school.yaml", staff)
    database = options.workdir / "memory.db"
    fake = start_fake_slack(options.workdir)
    servers = [fake]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        try:
            await fake.wait_ready(http)
            example = start_safeguard(options.workdir, school=EXAMPLE_SCHOOL, slack_api=f"{fake.url}/api/")
            servers.append(example)
            await example.wait_ready(http)
            await settle(example)
            idle = example.rss_mb()
            example.stop()
            servers.remove(example)
            server = start_safeguard(options.workdir, school=school, slack_api=f"{fake.url}/api/", database=database)
            servers.append(server)
            await server.wait_ready(http)
            await settle(server)
            started = server.rss_mb()
            url, gate = f"{server.url}/slack/events", asyncio.Semaphore(AT_ONCE)

            async def begin(index: int) -> None:
                teacher = staff[index]
                async with gate:
                    status = await post_signed(http, url, dm_message(teacher.slack, teacher.dm, "Pupil disclosure"))
                if status != 200:
                    raise RuntimeError(f"a message was answered {status}")

            before = await _count(http, fake.url, "chat.postMessage")
            await asyncio.gather(*(begin(index) for index in range(dialogs)))
            while await _count(http, fake.url, "chat.postMessage") < before + dialogs:
                await asyncio.sleep(0.2)
            await settle(server)
            holding = server.rss_mb()
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                drafts = db.execute("SELECT count(*) FROM drafts").fetchone()[0]
        finally:
            for running in reversed(servers):
                running.stop()
    if drafts != dialogs:
        raise RuntimeError(f"{drafts} drafts stored for {dialogs} dialogs begun")
    section.add("resident memory, started and idle, the example school", idle, "MB", below=150)
    section.add(f"resident memory, started and idle, {dialogs:,} teachers in the config", started, "MB")
    section.add(f"resident memory with {dialogs:,} half-finished dialogs", holding, "MB",
                below=200 if not options.quick else None)
    section.add("more per dialog", (holding - started) * 1000 / dialogs, "KB")
    section.notes.append(f"{dialogs:,} teachers in the school config, each with a draft stored at its second "
                         f"question ({drafts:,} drafts counted in the database); {AT_ONCE} senders at a time; "
                         "RSS from /proc/PID/statm, MB = 10^6 bytes")
    return section


def measure(options: Options) -> Section:
    return asyncio.run(_measure(options))
