"""Two real `safeguard serve` processes on one PostgreSQL database, as behind a load balancer.

Slack reaches whichever process the balancer picks: a report is started on one and answered on
the other, each event is delivered to both (Slack's retry of an event can land on the other
instance), and an alert's Acknowledge arrives at both at once. Reports that fell due while no
server ran are waiting when both start, so their schedulers race for the same escalation
steps, LADO reminder and weekly digest, and their outboxes for the same alerts. Every message
must go out once and every event be handled once.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select

from bot.app import CONSOLE, SLACK, TEAMS, App, utc_now
from bot.cases import lifecycle
from bot.examples import EXAMPLE_SCHOOL, EXAMPLE_TRUST
from routing.trust import load_deployment
from routing.vocabulary import Category, Subject
from storage.db import create_engine, sessionmaker
from storage.log import verify
from storage.migrate import upgrade
from storage.models import AlertDelivery, DigestDelivery, Event, InboundEvent, Report
from storage.reports import create_report
from tests.builders import TEST_KEY, TEST_KEYS, write_yaml
from tests.e2e.fake_slack import TOKEN, Call, FakeSlack, dm_channel
from tests.e2e.slack_rig import SECRET, SLACK_IDS, BalancedRig, Clock, Phone, Rig, find_button
from tests.e2e.test_serve import COMMAND, environment, free_port, until_healthy

REFERENCE = re.compile(r"SG-(?:[A-Z0-9]+-)?\d{4}-\d{4,}")
WORDS = "She said an older boy online keeps asking her for photos."
# Fast rounds, so that both processes try every step many times while the test runs; the lease
# is long enough that a live sender is never overtaken.
FAST = {"SAFEGUARD_OUTBOX_SECONDS": "0.3", "SAFEGUARD_SCHEDULER_SECONDS": "0.5",
        "SAFEGUARD_DELIVERY_LEASE_SECONDS": "5"}
# Deadlines count around the clock, and a pupil's disclosure is due within a minute: the
# reports seeded overdue escalate as the servers start. Every count below is read against the
# steps the log holds, so a second step (a minute later, on a slow run) is checked the same way.
FAST_CLOCK = {"clock": "always", "cover": [{"categories": ["pupil_disclosure"], "ack_within_minutes": 1}]}


@dataclass(frozen=True)
class Deployment:
    """The config both servers serve, and who is who in it."""

    config: Path
    school: str  # the school of the deployment the test reports at (its id in a trust)
    ids: dict[str, str]  # person id -> Slack id, for everyone in the deployment
    teacher: str = "cfinch"
    dsl: str = "smorgan"
    deputy: str = "rpatel"  # the first rung of a pupil disclosure's ladder
    # Who made the seeded reports: not the teacher, whose DM then shows only the dialog the test walks.
    seed_reporter: str = "tokafor"
    # Everyone a weekly digest goes to: in a trust each school's governor lead, and the trust safeguarding lead.
    digest_readers: tuple[str, ...] = ("dwilde",)


def school_alone(tmp_path: Path) -> Deployment:
    """The example school with Slack ids for everyone, on the fast clock."""
    data = yaml.safe_load(EXAMPLE_SCHOOL.read_text(encoding="utf-8"))
    for entry in data["people"]:
        entry["slack"] = SLACK_IDS[entry["id"]]
    config = write_yaml(tmp_path / "school.yaml", {**data, **FAST_CLOCK})
    return Deployment(config, load_deployment(config).schools[0].key, dict(SLACK_IDS))


def example_trust(tmp_path: Path) -> Deployment:
    """The example trust with Slack ids for everyone; Oakfield (oak) on the fast clock."""
    trust = yaml.safe_load(EXAMPLE_TRUST.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}

    def slack_ids(people: list[dict[str, Any]]) -> None:
        for entry in people:
            entry["slack"] = ids.setdefault(entry["id"], SLACK_IDS.get(entry["id"], "U0" + entry["id"].upper()))

    slack_ids(trust["people"])
    (tmp_path / "schools").mkdir()
    for school in trust["schools"]:
        data = yaml.safe_load((EXAMPLE_TRUST.parent / school["config"]).read_text(encoding="utf-8"))
        slack_ids(data["people"])
        write_yaml(tmp_path / school["config"], {**data, **FAST_CLOCK} if school["id"] == "oak" else data)
    config = write_yaml(tmp_path / "trust.yaml", trust)
    return Deployment(config, "oak", ids, deputy="pshah", digest_readers=("fadeyemi", "tnash", "dwilde", "mhale"))


DEPLOYMENTS = [
    pytest.param(school_alone, id="school"),
    pytest.param(example_trust, id="trust"),
]


class Server:
    """One `safeguard serve` process, its output kept for when a check fails."""

    def __init__(self, name: str, deployment: Deployment, url: str, env: dict[str, str], log: Path) -> None:
        self.name, self.deployment, self.url, self.env, self.log = name, deployment, url, env, log
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                *COMMAND, "serve", "--config", str(self.deployment.config), "--port", str(self.port),
                "--database-url", self.url, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    async def ready(self, http: aiohttp.ClientSession) -> None:
        def alive() -> str | None:
            if self.process is not None and self.process.returncode is None:
                return None
            return f"{self.name} exited: {self.log.read_text(errors='replace')[-2000:]}"

        await until_healthy(http, self.base, self.name, alive)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)


def direct(server: Server, fake: FakeSlack, http: aiohttp.ClientSession, fake_url: str) -> Rig:
    """Slack reaching one server only."""
    return Rig(server.base, fake, cast(Any, None), cast(Any, None), http, Clock(), fake_url)


async def type_to_both(phone: Phone, rigs: list[Rig], text: str, event_id: str) -> Call:
    """The person types `text`; Slack delivers the event to one server and its retry to the other, side by side."""
    before = len(phone.posts())
    event = phone.message_event(text)
    answers = await asyncio.gather(*(rig.event(event, event_id=event_id, retry=n or None) for n, rig in enumerate(rigs)))
    assert [a.status for a in answers] == [200] * len(rigs), answers
    return await phone.wait_for_post(before + 1)


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30,
                state: dict[str, object] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"waited {timeout}s for {what}; last seen: {state}"
        await asyncio.sleep(0.1)


def at(moment: datetime) -> Callable[[], datetime]:
    """A clock stopped at `moment`."""
    return lambda: moment


async def seed(deployment: Deployment, url: str) -> dict[str, str]:
    """Reports made while no server ran, overdue or nearly; their alerts wait in the outbox. Name -> reference.

    The first is three weeks old, so the log began before last week and last week's digest is due.
    """
    served = load_deployment(deployment.config)
    school = next(s for s in served.schools if s.key == deployment.school)
    now = utc_now()
    made: dict[str, str] = {}
    engine = create_engine(url, keys=TEST_KEYS)
    try:
        for name, ago, category, subject, allegation in [
            ("old disclosure", timedelta(days=21), Category.PUPIL_DISCLOSURE, Subject.PUPIL, False),
            ("allegation", timedelta(days=20), Category.COLLEAGUE_CONCERN, Subject.STAFF, True),
            ("disclosure 1", timedelta(minutes=5), Category.PUPIL_DISCLOSURE, Subject.PUPIL, False),
            ("disclosure 2", timedelta(minutes=4), Category.PUPIL_DISCLOSURE, Subject.PUPIL, False),
            # Due a few seconds after the servers start: both schedulers are then in their steady rounds.
            ("due while serving", timedelta(seconds=50), Category.PUPIL_DISCLOSURE, Subject.PUPIL, False),
        ]:
            then = now - ago
            app = App(school, sessionmaker(engine), channels=(SLACK, TEAMS, CONSOLE), clock=at(then),
                      deployment=served)
            async with app.sessions.begin() as session:
                report = await create_report(session, now=then, school=school.key, category=category, subject=subject,
                                             reporter=deployment.seed_reporter, allegation=allegation, channel=SLACK,
                                             details={"what": "A made-up report for a test"},
                                             reference_prefix=school.reference_prefix)
                made[name] = report.reference
            await lifecycle.route(app, made[name])
    finally:
        await engine.dispose()
    return made


def posts_in(fake: FakeSlack, slack_id: str) -> list[str]:
    """What the bot posted in a person's DM, each message's first line as it was posted."""
    return [c.words().split("\n")[0].removeprefix(":rotating_light: ").strip("*")
            for c in fake.to("chat.postMessage", channel=dm_channel(slack_id))]


def starting(lines: list[str], prefix: str) -> int:
    return sum(1 for line in lines if line.startswith(prefix))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("deploy", DEPLOYMENTS)
async def test_two_servers_on_one_database_send_each_message_once_and_handle_each_event_once(
    database_url: str, deploy: Callable[[Path], Deployment], fake_slack: tuple[FakeSlack, str], tmp_path: Path
) -> None:
    fake, fake_url = fake_slack
    deployment = deploy(tmp_path)
    await upgrade(database_url)
    seeded = await seed(deployment, database_url)
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY, **FAST)
    servers = [Server(name, deployment, database_url, env, tmp_path / f"{name}.log") for name in ("a", "b")]
    engine = create_engine(database_url, keys=TEST_KEYS)
    sessions = sessionmaker(engine)
    async with aiohttp.ClientSession() as http:
        try:
            # Started together: their first scheduler rounds and outbox rounds race for the seeded work.
            await asyncio.gather(*(server.start() for server in servers))
            await asyncio.gather(*(server.ready(http) for server in servers))
            balancer = BalancedRig([server.base for server in servers], fake, http, fake_url)
            rigs = [direct(server, fake, http, fake_url) for server in servers]
            ids = deployment.ids
            teacher = Phone(balancer, deployment.teacher, ids[deployment.teacher])
            dsl = Phone(balancer, deployment.dsl, ids[deployment.dsl])

            # A report walked through the dialog, each answer reaching the next server in turn,
            # and each typed message delivered to both.
            await type_to_both(teacher, rigs, "hi", "Ev0TWOSRV001")
            await teacher.tap("Pupil disclosure")
            await teacher.tap("No")
            await teacher.tap("The child is the victim")
            await type_to_both(teacher, rigs, "Mia Hart", "Ev0TWOSRV002")
            await teacher.tap("Skip")
            await type_to_both(teacher, rigs, WORDS, "Ev0TWOSRV003")
            await teacher.tap("No")
            await teacher.tap("In class")
            await teacher.tap("No")
            await teacher.tap("No")
            await teacher.tap("Send")
            receipt = await teacher.wait_for_said("Your report", timeout=20)
            found = REFERENCE.search(receipt.text())
            assert found is not None, receipt.text()
            reported = found.group(0)

            # The DSL's alert arrives; their tap on Acknowledge reaches both servers at once.
            alert = await dsl.wait_for_said(f"New report {reported}", timeout=20)
            shown = dsl.message_of(alert)
            block, button = find_button(shown, "Acknowledge")
            payload = dsl.action_payload(shown, block, button)
            answers = await asyncio.gather(*(rig.interact(payload) for rig in rigs))
            assert [a.status for a in answers] == [200, 200], answers
            await teacher.wait_for_said(f"{reported} was acknowledged", timeout=20)

            last: dict[str, object] = {}

            async def all_done() -> bool:
                async with sessions() as session:
                    unsent = await session.scalar(select(func.count()).select_from(AlertDelivery)
                                                  .where(AlertDelivery.status != "sent"))
                    digests = list(await session.scalars(select(DigestDelivery.status)))
                    steps = dict((await session.execute(
                        select(Report.reference, Report.escalation_step)
                        .where(Report.reference.in_(seeded.values())))).all())
                    lado = await session.scalar(select(func.count()).select_from(Event).where(Event.kind == "lado_due"))
                    last.update(unsent=unsent, digests=digests, steps=steps, lado=lado)
                    return (unsent == 0 and digests == ["sent"] * len(deployment.digest_readers) and all(s >= 1 for s in steps.values()) and lado == 1)

            await until(all_done, "every overdue report escalated, the LADO reminder, the digest, every alert sent",
                        state=last)
            # A few more rounds of both schedulers and outboxes, for anything sent twice to show itself.
            await asyncio.sleep(2)
        finally:
            await asyncio.gather(*(server.stop() for server in servers))

    try:
        async with sessions() as session:
            assert (await verify(session)).ok, "one hash chain, however many servers wrote to it"
            steps = dict((await session.execute(select(Report.reference, Report.escalation_step))).all())
            events = [(kind, ref, data) for kind, ref, data in (await session.execute(
                select(Event.kind, Event.report_ref, Event.data).order_by(Event.seq)))]
            inbound = list(await session.scalars(select(InboundEvent.event_id)))
            deliveries = (await session.execute(
                select(Report.reference, AlertDelivery.person_id, AlertDelivery.kind, AlertDelivery.round)
                .join(Report, Report.id == AlertDelivery.report_id))).all()
    finally:
        await engine.dispose()

    # Each inbound event recorded once, and handled once: every question of the dialog asked once.
    assert sorted(e for e in inbound if e.startswith("Ev0TWOSRV")) == ["Ev0TWOSRV001", "Ev0TWOSRV002", "Ev0TWOSRV003"]
    asked = posts_in(fake, ids[deployment.teacher])
    assert starting(asked, "What are you reporting?") == 1, asked
    questions = [line for line in asked if line.endswith("?")]
    assert len(questions) == len(set(questions)), f"a question asked twice: {asked}"

    # Each escalation step taken once, each logged once.
    for reference in seeded.values():
        taken = [data["step"] for kind, ref, data in events if ref == reference and kind in ("escalated", "reminded")]
        assert taken == list(range(1, steps[reference] + 1)), (reference, taken)
    assert [ref for kind, ref, _ in events if kind == "lado_due"] == [seeded["allegation"]]
    assert [ref for kind, ref, _ in events if kind == "acknowledged"] == [reported], "one acknowledgement of two taps"

    # Every message in the outbox went once: each person's DM shows each of theirs once.
    queued = Counter((ref, person, kind) for ref, person, kind, _ in deliveries)
    for person, slack_id in ids.items():
        lines = posts_in(fake, slack_id)
        for reference in [*seeded.values(), reported]:
            alerts = starting(lines, f"New report {reference}") + starting(lines, f"URGENT: New report {reference}") \
                + starting(lines, f"ESCALATED: report {reference}") + starting(lines, f"URGENT: ESCALATED: report {reference}")
            assert alerts == queued[(reference, person, "alert")], (person, reference, lines)
            reminders = starting(lines, f"Reminder: {reference}") + starting(lines, f"URGENT: Reminder: {reference}")
            assert reminders == queued[(reference, person, "reminder")], (person, reference, lines)
            assert starting(lines, f"LADO: {reference}") == queued[(reference, person, "lado")], (person, reference, lines)
    keys = [c.args["metadata"]["event_payload"]["key"] for c in fake.to("chat.postMessage") if c.args.get("metadata")]
    assert [key for key, count in Counter(keys).items() if count > 1] == [], "a message posted twice"
    # The week's digest, queued once for each reader, reached each of them once.
    for reader in deployment.digest_readers:
        digest = [line for line in posts_in(fake, ids[reader]) if "digest" in line.lower()]
        assert len(digest) == 1, (reader, digest)
    # Enough happened for the counts to mean something.
    assert all(steps[reference] >= 1 for reference in seeded.values())
    assert queued[(seeded["old disclosure"], deployment.deputy, "alert")] == 1
