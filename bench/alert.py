"""From a reporter tapping Send to the alert arriving at the DSL's Slack (FakeSlack's Web API).

Fifty teachers report at the same time, over real HTTP to a real `safeguard serve`: each
walks a pupil disclosure to its last screen, tapping and typing as a quick phone user does
(a pause of half a second to a second and a half between answers), and taps Send. The time
from each tap to the DSL's alert reaching Slack's Web API is taken: the signed interaction,
the report stored and routed, the outbox round that sends the alert. Each teacher reports
several times, so the Sends fall as they come. Then, as a stress case, all fifty tap Send in
the same instant.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp

from bench.figures import Options, Section, percentile
from bench.fake_slack_server import fake_slack_here
from bench.processes import start_safeguard
from bench.school import DSL, ROLE_HOLDERS, teachers, write_school
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.slack_rig import Clock, Phone, Rig, find_button

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


async def _measure(options: Options) -> Section:
    section = Section("Report sent to alert at the DSL's Slack")
    reporters, reports, pause = (5, 1, (0.01, 0.05)) if options.quick else (REPORTERS, 4, PAUSE)
    staff = teachers(reporters)
    school = write_school(options.workdir / "alert-school.yaml", staff)
    async with fake_slack_here() as (fake, fake_url):
        server = start_safeguard(options.workdir, school=school, slack_api=f"{fake_url}/api/")
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                await server.wait_ready(http)
                # Phones as the e2e tests drive them; the app itself runs in the server's process.
                rig = Rig(server.url, fake, cast(Any, None), cast(Any, None), http, Clock(), fake_url)
                phones = [Phone(rig, t.person_id, t.slack) for t in staff]
                alerts = Arrivals(fake)
                paced = [t for times in await asyncio.gather(*(_reporting(p, alerts, reports, pause) for p in phones))
                         for t in times]
                burst = await _all_at_once(phones, alerts)
        finally:
            server.stop()
    what = f"{reporters} reporters at once, each at a phone user's pace"
    section.add(f"{what}: p50", percentile(paced, 0.5) * 1000, "ms")
    section.add(f"{what}: p99", percentile(paced, 0.99) * 1000, "ms", below=None if options.quick else 250)
    section.add(f"{reporters} reporters tapping Send in the same instant: p50", percentile(burst, 0.5) * 1000, "ms")
    section.add(f"{reporters} reporters tapping Send in the same instant: p99", percentile(burst, 0.99) * 1000, "ms")
    section.notes.append(f"{len(paced)} reports at a phone user's pace: {reporters} teachers reporting side by side, "
                         f"{reports} pupil disclosures each, {pause[0]:g}-{pause[1]:g} s between an answer arriving and "
                         "the next tap; then one burst of {reporters} Sends at the same instant".replace("{reporters}", str(reporters)))
    section.notes.append("from each tap of Send to the DSL's alert reaching FakeSlack (in the bench's process; "
                         "the server in its own); every alert found by the reference the reporter's receipt gave")
    return section


def measure(options: Options) -> Section:
    return asyncio.run(_measure(options))
