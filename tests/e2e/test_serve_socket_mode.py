"""`safeguard serve` over Socket Mode, run as a school's IT admin would run it behind the school's firewall."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from tests.builders import TEST_KEY
from tests.e2e.fake_slack import TOKEN, FakeSlack, dm_channel
from tests.e2e.fake_socket_mode import APP_TOKEN
from tests.e2e.slack_rig import SLACK_IDS
from tests.e2e.test_serve import COMMAND, environment, free_port, run, until_healthy


async def test_serve_connects_out_to_slack_with_no_signing_secret(fake_slack: tuple[FakeSlack, str], school_file: Path,
                                                                  tmp_path: Path) -> None:
    fake, fake_url = fake_slack
    port = free_port()
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY, SAFEGUARD_CONFIG=str(school_file),
                      DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'served.db'}")
    process = await asyncio.create_subprocess_exec(*COMMAND, "serve", "--port", str(port), env=env,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            await until_healthy(http, f"http://127.0.0.1:{port}", "safeguard serve",
                                lambda: None if process.returncode is None else f"exited {process.returncode}")
            connection = await fake.socket_mode.wait_for_connection(timeout=30)
            assert fake.to("apps.connections.open")[0].token == APP_TOKEN

            teacher = SLACK_IDS["cfinch"]
            ts = f"{time.time():.6f}"
            event = {"type": "message", "channel": dm_channel(teacher), "user": teacher, "text": "hi", "ts": ts,
                     "event_ts": ts, "channel_type": "im", "team": "T0OAKFIELD"}
            ack = await fake.socket_mode.envelope("events_api", {
                "type": "event_callback", "team_id": "T0OAKFIELD", "api_app_id": "A0SAFEGUARD", "event": event,
                "event_id": "Ev0SERVED001", "event_time": int(time.time())}, timeout=30)
            assert "payload" not in ack  # an event is acknowledged with its envelope id alone
            answer = await fake.wait_for("chat.postMessage", channel=dm_channel(teacher), timeout=30)
            assert "What are you reporting?" in answer[0].words()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert (await response.json())["slack_socket_connected"] is True
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "(Slack on over Socket Mode;" in out.decode()
    assert "SLACK_SIGNING_SECRET" not in err.decode()
    await asyncio.wait_for(connection.closed.wait(), 10)  # the socket is closed on the way out


async def test_serve_refuses_an_app_token_slack_refuses(fake_slack: tuple[FakeSlack, str], tmp_path: Path) -> None:
    _, fake_url = fake_slack
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN="xapp-1-A0SAFEGUARD-revoked", SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'served.db'}")
    code, _, err = await run("serve", "--port", str(free_port()), env=env)
    assert code == 2, err
    # After the start-up lines (the log on stderr), the one line that says why.
    assert err.splitlines()[-1].startswith(
        "safeguard: error: Slack refused SLACK_APP_TOKEN (invalid_auth): make an app-level token"), err
    assert "Traceback" not in err and "Unclosed" not in err
    assert "xapp-1-A0SAFEGUARD-revoked" not in err  # a token is never echoed


@pytest.mark.parametrize(("settings", "says"), [
    ({"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"},
     "SLACK_APP_TOKEN (Socket Mode) is set as well as SLACK_CLIENT_ID or SLACK_CLIENT_SECRET"),
    ({"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN is empty: Socket Mode (SLACK_APP_TOKEN) also needs"),
    ({"SLACK_APP_TOKEN": TOKEN, "SLACK_BOT_TOKEN": TOKEN}, "SLACK_APP_TOKEN is not an app-level token"),
])
def test_serve_refuses_socket_mode_settings_that_contradict(settings: dict[str, str], says: str) -> None:
    result = subprocess.run([*COMMAND, "serve"], env=environment(**settings), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"safeguard: error: {says}"), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
