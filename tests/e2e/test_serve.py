"""`safeguard serve` and `safeguard directory sync-slack`, run as staff IT would run them."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.examples import EXAMPLE_SCHOOL
from routing.school import load_school
from tests.builders import TEST_KEY
from tests.e2e.fake_slack import TOKEN, FakeSlack
from tests.e2e.slack_rig import SECRET, SLACK_IDS, Rig, sign

SCRIPT = Path(sys.executable).parent / "safeguard"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-c", "from bot.cli.main import main; main()"]


def environment(**extra: str) -> dict[str, str]:
    """This environment without any Safeguard or Slack settings of the machine, plus `extra`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAFEGUARD_", "DATABASE_URL", "PORT"))}
    return {**keep, "PYTHONWARNINGS": "ignore", **extra}


async def until_healthy(http: aiohttp.ClientSession, base: str, what: str,
                        alive: Callable[[], str | None] = lambda: None) -> None:
    """Wait up to a minute for a `safeguard serve` at `base` to answer /healthz; `alive` names why it never will."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        died = alive()
        assert died is None, died
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not come up")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    """Run the safeguard command without blocking the loop (FakeSlack answers it from this loop)."""
    process = await asyncio.create_subprocess_exec(*COMMAND, *args, env=env, stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_healthz_says_the_database_and_slack_are_up(rig: Rig) -> None:
    async with rig.http.get(f"{rig.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": True, "slack": True, "teams": True}


def test_serve_refuses_an_empty_signing_secret() -> None:
    result = subprocess.run([*COMMAND, "serve"], env=environment(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET=""),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("safeguard: error: SLACK_SIGNING_SECRET is empty")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


async def test_serve_migrates_then_answers_slack_until_stopped(fake_slack: tuple[FakeSlack, str],
                                                                school_file: Path, tmp_path: Path) -> None:
    fake, fake_url = fake_slack
    port = free_port()
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY)
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "serve", "--config", str(school_file), "--port", str(port),
        "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with http.get(f"{url}/healthz") as response:
                        assert await response.json() == {"status": "ok", "database": True, "slack": True, "teams": True}
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline and process.returncode is None, "the server never came up"
                    await asyncio.sleep(0.1)
            body = json.dumps({"type": "event_callback", "team_id": "T0OAKFIELD", "api_app_id": "A0SAFEGUARD",
                               "event_id": "Ev0SERVED01", "event_time": int(time.time()),
                               "event": {"type": "message", "channel": "D0CFINCH01", "user": SLACK_IDS["cfinch"],
                                         "text": "hi", "ts": "1.0", "channel_type": "im"}})
            now = int(time.time())
            headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(now),
                       "X-Slack-Signature": sign(body, now)}
            async with http.post(f"{url}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
        asked = await fake.wait_for("chat.postMessage", channel="D0CFINCH01", timeout=10)
        assert "What are you reporting?" in asked[0].words()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "Safeguard stopped." in out.decode()
    assert (tmp_path / "served.db").exists()  # migrated at start


@pytest.mark.parametrize(("key", "message"), [
    (None, ("safeguard: error: SAFEGUARD_ENCRYPTION_KEY is not set: the server encrypts what staff report with it; "
            "make one with `safeguard keys new` and keep it safe (the reports cannot be read without it), or try "
            "Safeguard out with `safeguard serve --demo`")),
    ("my-secret-passphrase", "safeguard: error: SAFEGUARD_ENCRYPTION_KEY is not a Fernet key"),
], ids=["missing", "malformed"])
def test_serve_refuses_to_start_without_a_usable_key(tmp_path: Path, key: str | None, message: str) -> None:
    env = environment() if key is None else environment(SAFEGUARD_ENCRYPTION_KEY=key)
    result = subprocess.run([*COMMAND, "serve", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert key is None or key not in result.stderr
    assert list(tmp_path.iterdir()) == [], "no database and no key file"


async def serve_once(*args: str, env: dict[str, str]) -> tuple[str, str]:
    """Start `safeguard serve`, wait until /healthz answers 200, stop it with SIGTERM; its stdout and stderr."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(*COMMAND, "serve", "--port", str(port), *args, env=env,
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline and process.returncode is None, "the server never came up"
                    await asyncio.sleep(0.1)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    return out.decode(), err.decode()


async def test_serve_demo_writes_a_key_file_beside_the_database_and_says_so(tmp_path: Path) -> None:
    database = ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"]
    key_file = tmp_path / "served.key"
    _, err = await serve_once("--demo", *database, env=environment())
    assert (f"safeguard: demo mode: wrote a new encryption key to {key_file} (readable by you only); keep it with "
            "the database, which cannot be read without it. For real use set SAFEGUARD_ENCRYPTION_KEY") in err
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text(encoding="ascii")
    assert key not in err

    _, err = await serve_once("--demo", *database, env=environment())
    assert f"safeguard: demo mode: encrypting with the key in {key_file}; for real use set SAFEGUARD_ENCRYPTION_KEY" in err
    assert key_file.read_text(encoding="ascii") == key, "the same key, not a new one"


async def test_sync_slack_fills_in_ids_by_email_and_keeps_comments(fake_slack: tuple[FakeSlack, str],
                                                                   tmp_path: Path) -> None:
    fake, fake_url = fake_slack
    fake.users_by_email.update({"s.morgan@oakfield.example.org": "U0SMORGAN1", "c.finch@oakfield.example.org": "U0CFINCH01"})
    config = tmp_path / "school.yaml"
    shutil.copy(EXAMPLE_SCHOOL, config)
    original = config.read_text(encoding="utf-8")
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=f"{fake_url}/api/")

    code, out, err = await run("directory", "sync-slack", "--config", str(config), "--dry-run", env=env)
    assert code == 1, err  # six people are still without a Slack id
    assert "smorgan: U0SMORGAN1 (found by s.morgan@oakfield.example.org)" in out
    assert config.read_text(encoding="utf-8") == original

    code, out, err = await run("directory", "sync-slack", "--config", str(config), env=env)
    assert code == 1, err
    assert "added 2 Slack id(s)" in out and "jellis: no Slack account uses j.ellis@oakfield.example.org" in out
    written = config.read_text(encoding="utf-8")
    assert "# An example school config." in written and "# a class teacher" in written
    school = load_school(config)
    assert {p.id: p.slack for p in school.people if p.slack} == {"smorgan": "U0SMORGAN1", "cfinch": "U0CFINCH01"}
    assert len(fake.to("users.lookupByEmail")) == 16  # eight people, twice

    code, out, err = await run("directory", "sync-slack", "--config", str(config),
                               env=environment(SLACK_BOT_TOKEN="xoxb-wrong", SLACK_API_URL=f"{fake_url}/api/"))
    assert code == 2 and err.startswith("safeguard: error: Slack said invalid_auth: the token was refused")


async def test_serve_on_a_trust_serves_every_school_and_says_how_many(tmp_path: Path) -> None:
    database = ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"]
    trust = Path(__file__).resolve().parents[2] / "bot" / "examples" / "trust.yaml"
    out, _ = await serve_once("--demo", "--config", str(trust), *database, env=environment())
    assert "Safeguard is serving Bellevue Place Education Trust (3 schools: bpa, hol, oak) on http://127.0.0.1:" in out
