"""Fifty Sends in the same instant, timed inside: when each kind of Slack call of the burst arrived.

`bench alert` gives each reporter's Send-to-alert time; this says where that time went. Fifty
teachers walk a pupil disclosure to its summary, then all tap Send at once, on a fresh server
(SQLite); the first burst warms the server, the second is timed. From the taps: when the
reporters' summaries were edited to show they were sent (each Send handler's own Slack call,
after its report is stored and routed), when their receipts arrived, and when the DSL's alerts
arrived; and the server's CPU for the burst.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp

from bench.alert import REFERENCE, Arrivals, _send, _to_last_screen
from bench.fake_slack_server import fake_slack_here
from bench.figures import Options, Section
from bench.processes import Server, start_safeguard
from bench.school import teachers, write_school
from storage.crypto import new_key
from tests.e2e.fake_slack import Call, FakeSlack
from tests.e2e.slack_rig import BalancedRig, Phone

REPORTERS = 50
BURSTS = 2  # the first warms the server (imports, caches, the DSL's DM opened); the last is timed


@dataclass(frozen=True)
class Timeline:
    """Seconds from the taps to the first and last of each kind of call; the server's CPU seconds."""

    edited: tuple[float, float]
    receipts: tuple[float, float]
    alerts: tuple[float, float]
    cpu: float


def _span(calls: list[Call], start: float) -> tuple[float, float]:
    times = sorted(call.at - start for call in calls)
    return (times[0], times[-1]) if times else (float("nan"), float("nan"))


@dataclass(frozen=True)
class Burst:
    """One burst: when the first Send was tapped, FakeSlack's first call after, the references, the server's CPU."""

    tapped: float
    first_call: int
    references: list[str]
    cpu: float


async def _burst(server: Server, phones: list[Phone], fake: FakeSlack, alerts: Arrivals) -> Burst:
    """Every phone at its summary, then Send at once, until every alert has arrived and the round has ended."""
    summaries = await asyncio.gather(*(_to_last_screen(phone) for phone in phones))
    go = asyncio.Event()
    sends = [asyncio.create_task(_send(p, s, go)) for p, s in zip(phones, summaries)]
    await asyncio.sleep(1.0)  # every reporter is waiting with a finger on Send; the server's last work done
    first_call, cpu = len(fake.calls), server.cpu_seconds()
    go.set()
    sent = await asyncio.gather(*sends)
    for _, reference in sent:
        await alerts.arrival(reference)
    await asyncio.sleep(0.5)  # the round's records written
    return Burst(min(tapped for tapped, _ in sent), first_call, [reference for _, reference in sent],
                 server.cpu_seconds() - cpu)


async def _run(options: Options, reporters: int) -> Timeline:
    staff = teachers(reporters)
    school = write_school(options.workdir / "burst-school.yaml", staff)
    dms = {t.slack[1:] for t in staff}
    async with fake_slack_here() as (fake, fake_url):
        server = start_safeguard(options.workdir, school=school, slack_api=f"{fake_url}/api/", key=new_key())
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                await server.wait_ready(http)
                rig = BalancedRig([server.url], fake, http, fake_url)
                phones = [Phone(rig, t.person_id, t.slack) for t in staff]
                alerts = Arrivals(fake)
                for _ in range(BURSTS):
                    burst = await _burst(server, phones, fake, alerts)
        finally:
            server.stop()
    start, calls = burst.tapped, fake.calls[burst.first_call:]
    to_reporters = [c for c in calls if str(c.args.get("channel", ""))[1:] in dms]
    edited = [c for c in to_reporters if c.method == "chat.update"]
    receipts = [c for c in to_reporters if c.method == "chat.postMessage" and REFERENCE.search(str(c.args.get("text")))]
    wanted = set(burst.references)
    dsl = [c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == alerts.dm
           and set(REFERENCE.findall(str(c.args.get("text") or ""))) & wanted]
    return Timeline(_span(edited, start), _span(receipts, start), _span(dsl, start), burst.cpu)


def measure(options: Options) -> Section:
    reporters = 5 if options.quick else REPORTERS
    timeline = asyncio.run(_run(options, reporters))
    section = Section("A burst of Sends, timed inside")
    for what, (first, last) in (("reporters' summaries edited to sent", timeline.edited),
                                ("reporters' receipts", timeline.receipts), ("the DSL's alerts", timeline.alerts)):
        section.add(f"{what}: first, after the taps", first * 1000, "ms")
        section.add(f"{what}: last, after the taps", last * 1000, "ms")
    section.add("server CPU for the burst", timeline.cpu * 1000, "ms")
    section.notes.append(f"{reporters} teachers at their summaries tap Send in the same instant, {BURSTS} bursts on a "
                         "fresh server (SQLite), the last timed; times are FakeSlack's arrival stamps")
    return section
