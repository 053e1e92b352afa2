"""GET /metrics and GET /readyz, scraped over real HTTP from our served app as Prometheus and a load balancer would."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import SLACK, App
from bot.scheduler import Scheduler
from bot.server import Settings, build_server
from routing.trust import load_deployment
from storage.crypto import parse_keys
from storage.db import create_engine, sessionmaker
from tests.builders import TEST_KEY
from tests.e2e.conftest import RigFactory
from tests.e2e.fake_slack import TOKEN
from tests.e2e.reports import CHILD_WORDS, submit
from tests.e2e.slack_rig import SECRET, Clock, Rig
from tests.e2e.test_serve import free_port

METRICS_TOKEN = "made-up-scrape-token-0123456789"
ELSEWHERE = {"X-Forwarded-For": "203.0.113.9"}  # a proxy on this machine passing on a request from the internet
WORDS = "He keeps messaging her at night (made-up)"


async def scrape(rig: Rig, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with rig.http.get(f"{rig.url}/metrics", headers=headers or {}) as response:
        return response.status, await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format; 0 when it is not there."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def ready(rig: Rig) -> tuple[int, str]:
    async with rig.http.get(f"{rig.url}/readyz") as response:
        return response.status, await response.text()


async def test_the_figures_move_when_a_report_is_sent_and_its_alert_delivered(rig: Rig) -> None:
    school = rig.app.school.key
    status, before = await scrape(rig)
    assert status == 200
    assert sample(before, "safeguard_reports_received_total", school=school, category="pupil_disclosure") == 0
    assert sample(before, "safeguard_database_up") == 1

    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", WORDS, "no", "with_me", "no", "no"):
        await teacher.type(words)
    await teacher.tap("Send")
    await dsl.wait_for_post(1)  # the DSL's alert, through the outbox
    reference = next(w for w in teacher.said().split() if w.startswith("SG-")).rstrip(".,:")

    status, after = await scrape(rig)
    assert status == 200
    assert sample(after, "safeguard_reports_received_total", school=school, category="pupil_disclosure") == 1
    assert sample(after, "safeguard_messages_delivered_total", channel="slack", kind="alert") >= 1
    assert sample(after, "safeguard_delivery_latency_seconds_count", channel="slack") >= 1
    assert sample(after, "safeguard_http_requests_total", route="/slack/events", status="200") >= 11
    assert sample(after, "safeguard_reports_overdue", school=school) == 0
    # Never a reference, a name or a word anyone typed, not even as a label.
    said = [reference, "Mia Hart", WORDS, "made-up", *(person.name for person in rig.app.staff),
            *(person.id for person in rig.app.staff)]
    for secret in said:
        assert secret not in after, secret


async def test_a_message_waiting_too_long_shows_its_age_and_turns_readyz_503(rig: Rig) -> None:
    await submit(rig.app)  # stored and routed; the outbox has not sent its alerts yet
    assert await ready(rig) == (200, "ready\n")
    rig.clock.advance(20)  # Slack is down for twenty minutes, say: nothing goes
    _, text = await scrape(rig)
    assert sample(text, "safeguard_outbox_oldest_waiting_seconds", channel="slack") == 1200
    assert sample(text, "safeguard_outbox_waiting", channel="slack", kind="alert") >= 1
    assert await ready(rig) == (503, "not ready: a message has waited 1200 s to be sent (more than 900 s)\n")
    assert CHILD_WORDS not in text

    await rig.slack.outbox.deliver()  # Slack is back
    assert await ready(rig) == (200, "ready\n")
    _, text = await scrape(rig)
    assert sample(text, "safeguard_outbox_oldest_waiting_seconds", channel="slack") == 0
    assert sample(text, "safeguard_delivery_latency_seconds_bucket", channel="slack", le="1800.0") >= 1
    assert sample(text, "safeguard_delivery_latency_seconds_bucket", channel="slack", le="900.0") == 0


async def test_an_unacknowledged_report_is_counted_overdue_and_its_escalation_counted(rig: Rig) -> None:
    school = rig.app.school.key
    await submit(rig.app)
    await rig.slack.outbox.deliver()
    rig.clock.advance(31)  # past the DSL's 30 minutes, and nobody has acknowledged
    _, text = await scrape(rig)
    assert sample(text, "safeguard_reports_overdue", school=school) == 1
    assert sample(text, "safeguard_escalations_total", school=school, kind="escalation") == 0
    assert len((await Scheduler(rig.app).run_once()).escalated) == 1
    _, text = await scrape(rig)
    assert sample(text, "safeguard_escalations_total", school=school, kind="escalation") == 1

    await rig.phone("smorgan").tap("Acknowledge", rig.phone("smorgan").message_of(rig.phone("smorgan").posts()[0]))
    _, text = await scrape(rig)
    assert sample(text, "safeguard_reports_overdue", school=school) == 0


async def test_metrics_are_refused_to_anyone_else_without_the_token(make_rig: RigFactory) -> None:
    rig = await make_rig(metrics_token=METRICS_TOKEN)
    await submit(rig.app)
    assert (await scrape(rig))[0] == 200  # the machine itself
    for headers in (ELSEWHERE, {**ELSEWHERE, "Authorization": "Bearer wrong-token-0123456789"},
                    {"Forwarded": "for=203.0.113.9"}, {"Authorization": f"Basic {METRICS_TOKEN}", **ELSEWHERE}):
        status, text = await scrape(rig, headers)
        assert status == 403, headers
        assert "safeguard_" not in text, "no figures"
    status, text = await scrape(rig, {**ELSEWHERE, "Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200
    assert sample(text, "safeguard_reports_received_total", school=rig.app.school.key, category="pupil_disclosure") == 1
    _, counted = await scrape(rig)
    assert sample(counted, "safeguard_http_requests_total", route="/metrics", status="403") == 4


async def test_without_a_token_metrics_answer_only_this_machine(rig: Rig) -> None:
    assert (await scrape(rig, ELSEWHERE))[0] == 403
    assert (await scrape(rig, {**ELSEWHERE, "Authorization": f"Bearer {METRICS_TOKEN}"}))[0] == 403


def outward_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one: where a request from elsewhere arrives."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # picks the outward interface; nothing is sent
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


async def test_a_request_reaching_a_network_address_is_refused_without_the_token(make_rig: RigFactory) -> None:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no network address but loopback: the X-Forwarded-For tests stand in")
    rig = await make_rig(metrics_token=METRICS_TOKEN)
    # The same app served on every interface, as `safeguard serve --host 0.0.0.0` does.
    server = TestServer(build_server(rig.app, Settings(metrics_token=METRICS_TOKEN, scheduler_seconds=0)),
                        host="0.0.0.0")
    await server.start_server()
    try:
        outside = f"http://{address}:{server.port}/metrics"
        async with rig.http.get(outside) as response:
            assert response.status == 403 and "safeguard_" not in await response.text()
        async with rig.http.get(outside, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as response:
            assert response.status == 200 and "safeguard_database_up 1.0" in await response.text()
        async with rig.http.get(f"http://127.0.0.1:{server.port}/metrics") as response:
            assert response.status == 200
    finally:
        await server.close()


@pytest.fixture
async def unreachable(school_file: Path) -> AsyncIterator[str]:
    """Our server on a database that is gone: PostgreSQL on a port nothing listens on."""
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test", keys=parse_keys(TEST_KEY))
    deployment = load_deployment(school_file)
    app = App(deployment.schools[0], sessionmaker(engine), channels=(SLACK,), clock=Clock(), deployment=deployment)
    settings = Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url="http://127.0.0.1:9/api/",
                        outbox_seconds=3600, scheduler_seconds=0)
    server = TestServer(build_server(app, settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()
    await engine.dispose()


async def test_readyz_is_503_while_the_database_is_gone(unreachable: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{unreachable}/readyz") as response:
            assert (response.status, await response.text()) == (503, "not ready: the database does not answer\n")
            assert response.headers["Retry-After"] == "30"
        async with http.get(f"{unreachable}/metrics") as response:
            text = await response.text()
            assert response.status == 200  # the process's own counters still tell what it did
            assert sample(text, "safeguard_database_up") == 0
        async with http.get(f"{unreachable}/healthz") as response:
            assert response.status == 503
