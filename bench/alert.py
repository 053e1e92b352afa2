"""From a reporter tapping Send to the alert arriving at the DSL's Slack (FakeSlack's Web API).

Fifty teachers report at the same time, over real HTTP to a real `safeguard serve`: each
walks a pupil disclosure to its last screen, tapping and typing as a quick phone user does
(a pause of half a second to a second and a half between answers), and taps Send. The time
from each tap to the DSL's alert reaching Slack's Web API is taken: the signed interaction,
the report stored and routed, the outbox round that sends the alert. Each teacher reports
several times, so the Sends fall as they come. Then, as a stress case, all fifty tap Send in
the same instant. Given a PostgreSQL server, the same again on PostgreSQL with one server
process and with two on one database (behind a round-robin balancer, as bench/scale.py).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.figures import Options, Section, percentile
from bench.fake_slack_server import fake_slack_here
from bench.processes import Server, scratch_database, start_safeguard
from bench.school import DSL, ROLE_HOLDERS, teachers, write_school
from storage.crypto import new_key
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.slack_rig import BalancedRig, Phone, find_button

REPORTERS = 50
PAUSE = (0.5, 1.5)  # seconds between one answer arriving and the next tap
WORDS = "She said an older boy online keeps asking her for photos."
REFERENCE = re.compile(r"SG-\d{4}-\d{4,}")


async def _to_last_screen(phone: Phone, pause: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    """Walk a pupil disclosure to the summary with its Send button, pausing between answers; that message."""
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: phone.type("hi"),
        lambda: phone.tap("Pupil disclosure"),
        lambda: phone.tap("No"),  # not about an adult who works at the school
        lambda: phone.tap("The child is the victim"),
        lambda: phone.type("Mia Hart"),  # the child who told (a made-up name)
        lambda: phone.tap("Skip"),  # year group or class
        lambda: phone.type(WORDS),
        lambda: phone.tap("No"),  # no immediate risk
        lambda: phone.tap("In class"),  # where the child is now
        lambda: phone.tap("No"),  # nothing illegal
        lambda: phone.tap("No"),  # no self-generated imagery
    ]
    for step in steps:
        await asyncio.sleep(random.uniform(*pause))
        await step()
    await asyncio.sleep(random.uniform(*pause))
    summary = phone.latest()
    find_button(summary, "Send")  # fails loudly if the dialog changed
    return summary


async def _send(phone: Phone, summary: dict[str, Any], start: asyncio.Event | None = None) -> tuple[float, str]:
    """Tap Send (when `start` is set, if given); when it was tapped, and the reference the receipt gives."""
    block, button = find_button(summary, "Send")
    payload = phone.action_payload(summary, block, button)
    before = len(phone.posts())
    if start is not None:
        await start.wait()
    tapped = asyncio.get_running_loop().time()
    answer = await phone.rig.interact(payload)
    if answer.status != 200:
        raise RuntimeError(f"Send was answered {answer.status}: {answer.body}")
    deadline = tapped + 60
    while True:
        for call in phone.posts()[before:]:
            found = REFERENCE.search(str(call.args.get("text") or ""))
            if found:
                return tapped, found.group(0)
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"{phone.person_id} had no receipt a minute after Send: {phone.said()}")
        await asyncio.sleep(0.02)


async def _reporting(phone: Phone, alerts: Arrivals, reports: int, pause: tuple[float, float]) -> list[float]:
    """One teacher making `reports` reports in a row, pausing between answers; each Send-to-alert time."""
    latencies = []
    for _ in range(reports):
        summary = await _to_last_screen(phone, pause)
        tapped, reference = await _send(phone, summary)
        latencies.append(await alerts.arrival(reference) - tapped)
    return latencies


async def _all_at_once(phones: list[Phone], alerts: Arrivals) -> list[float]:
    """Every teacher at the last screen, then all tapping Send in the same instant; each Send-to-alert time."""
    summaries = await asyncio.gather(*(_to_last_screen(phone) for phone in phones))
    go = asyncio.Event()
    sends = [asyncio.create_task(_send(p, s, go)) for p, s in zip(phones, summaries)]
    await asyncio.sleep(0.2)  # every reporter is waiting with a finger on Send
    go.set()
    return [await alerts.arrival(reference) - tapped for tapped, reference in await asyncio.gather(*sends)]


class Arrivals:
    """When each report's alert reached the DSL's DM at FakeSlack, read once as the calls come in.

    FakeSlack answers in the bench's own process and stamps each call as it is handled, so the
    waiting phones must cost that process little: fifty of them each re-reading every alert in
    the DSL's DM fifty times a second kept its loop busy, and the stamps late, by seconds once
    a few hundred alerts had arrived. Each call is read once here; a waiter only looks its
    reference up.
    """

    def __init__(self, fake: FakeSlack, dm: str | None = None) -> None:
        self.fake = fake
        self.dm = dm or "D" + ROLE_HOLDERS[DSL][1:]
        self._read = 0
        self._at: dict[str, float] = {}

    def _catch_up(self) -> None:
        calls = self.fake.calls
        for index in range(self._read, len(calls)):
            call = calls[index]
            if call.method == "chat.postMessage" and call.args.get("channel") == self.dm:
                for reference in REFERENCE.findall(str(call.args.get("text") or "")):
                    self._at.setdefault(reference, call.at)
        self._read = len(calls)

    async def arrival(self, reference: str, timeout: float = 60.0) -> float:
        """When the DSL's alert of `reference` reached the Web API (FakeSlack's clock, the loop's)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self._catch_up()
            if reference in self._at:
                return self._at[reference]
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"no alert of {reference} reached the DSL")
            await asyncio.sleep(0.02)


@dataclass
class Run:
    """One configuration's figures: Send to alert at a phone user's pace, and in the burst; the servers' CPU."""

    paced: list[float]
    burst: list[float]
    cpu_seconds: float


async def _run(options: Options, sizes: tuple[int, int, tuple[float, float]], *, processes: int = 1,
               database_url: str | None = None) -> Run:
    """`processes` servers (on one database: `database_url`, else a SQLite file of its own) behind a round-robin balancer."""
    reporters, reports, pause = sizes
    staff = teachers(reporters)
    school = write_school(options.workdir / "alert-school.yaml", staff)
    key = new_key()
    async with fake_slack_here() as (fake, fake_url):
        servers: list[Server] = []
        try:
            # Started together, as a deployment's servers are: they take turns to migrate.
            servers += [start_safeguard(options.workdir, school=school, slack_api=f"{fake_url}/api/",
                                        database_url=database_url, key=key) for _ in range(processes)]
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                await asyncio.gather(*(server.wait_ready(http) for server in servers))
                # Phones as the e2e tests drive them; the app itself runs in the servers' processes.
                rig = BalancedRig([server.url for server in servers], fake, http, fake_url)
                phones = [Phone(rig, t.person_id, t.slack) for t in staff]
                alerts = Arrivals(fake)
                cpu = sum(server.cpu_seconds() for server in servers)
                paced = [t for times in await asyncio.gather(*(_reporting(p, alerts, reports, pause) for p in phones))
                         for t in times]
                burst = await _all_at_once(phones, alerts)
                cpu = sum(server.cpu_seconds() for server in servers) - cpu
        finally:
            for server in servers:
                server.stop()
    return Run(paced, burst, cpu)


def _add(section: Section, label: str, run: Run, reporters: int, *, quick: bool) -> None:
    what = f"{reporters} reporters at once, each at a phone user's pace"
    section.add(f"{label}{what}: p50", percentile(run.paced, 0.5) * 1000, "ms")
    section.add(f"{label}{what}: p99", percentile(run.paced, 0.99) * 1000, "ms", below=None if quick else 250)
    section.add(f"{label}{reporters} reporters tapping Send in the same instant: p50", percentile(run.burst, 0.5) * 1000, "ms")
    section.add(f"{label}{reporters} reporters tapping Send in the same instant: p99", percentile(run.burst, 0.99) * 1000,
                "ms", below=None if quick else 250)
    reports = len(run.paced) + len(run.burst)
    section.add(f"{label}server CPU per report (dialog, storing, routing, alert)", run.cpu_seconds / reports * 1000, "ms")


async def _measure(options: Options) -> Section:
    section = Section("Report sent to alert at the DSL's Slack")
    sizes = (5, 1, (0.01, 0.05)) if options.quick else (REPORTERS, 4, PAUSE)
    reporters, reports, pause = sizes
    _add(section, "", await _run(options, sizes), reporters, quick=options.quick)
    if options.postgres is not None:
        # The same on PostgreSQL, one server process and two on one database (as bench/scale.py runs a trust).
        runs = {}
        for processes in (1, 2):
            async with scratch_database(options, f"alert{processes}") as url:
                runs[processes] = await _run(options, sizes, processes=processes, database_url=url)
        for processes, run in runs.items():
            _add(section, f"PostgreSQL, {'one process' if processes == 1 else 'two processes'}: ", run, reporters,
                 quick=options.quick)
        for which, one, two in (("at a phone user's pace", runs[1].paced, runs[2].paced),
                                ("in the same instant", runs[1].burst, runs[2].burst)):
            section.add(f"PostgreSQL, p99 {which}, two processes over one",
                        percentile(two, 0.99) / max(percentile(one, 0.99), 1e-9), "")
    section.notes.append(f"{reporters * reports} reports at a phone user's pace: {reporters} teachers reporting side by side, "
                         f"{reports} pupil disclosures each, {pause[0]:g}-{pause[1]:g} s between an answer arriving and "
                         f"the next tap; then one burst of {reporters} Sends at the same instant")
    section.notes.append("from each tap of Send to the DSL's alert reaching FakeSlack (in the bench's process; "
                         "the servers in their own); every alert found by the reference the reporter's receipt gave")
    if options.postgres is not None:
        section.notes.append("PostgreSQL: each configuration on a scratch database of its own; two processes behind a "
                             "round-robin balancer (each signed request to the next), with one key and one config")
    return section


def measure(options: Options) -> Section:
    return asyncio.run(_measure(options))
