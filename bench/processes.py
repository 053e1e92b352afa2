"""The servers under test, each in its own process: `safeguard serve`, and the bare slack-bolt baseline."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.figures import Options
from storage.crypto import new_key
from tests.e2e.fake_slack import TOKEN
from tests.e2e.slack_rig import SECRET

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process on 127.0.0.1, and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    output: Path

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mb(self) -> float:
        """Resident memory now, in MB (10^6 bytes)."""
        pages = int(Path(f"/proc/{self.process.pid}/statm").read_text().split()[1])
        return pages * PAGE / 1e6

    async def wait_ready(self, http: aiohttp.ClientSession, timeout: float = 60.0) -> None:
        """Wait for GET /healthz to answer 200 (migrations and start-up done)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.output}")
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if loop.time() > deadline:
                raise RuntimeError(f"{self.name} did not answer /healthz within {timeout:g}s; see {self.output}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM (a clean stop), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(name: str, command: list[str], env: dict[str, str], output: Path, port: int) -> Server:
    with output.open("wb") as log:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    return Server(name, process, f"http://127.0.0.1:{port}", output)


def start_safeguard(workdir: Path, *, school: Path, slack_api: str, database: Path | None = None,
                    extra_env: dict[str, str] | None = None, database_url: str | None = None,
                    key: str | None = None) -> Server:
    """`safeguard serve` on a fresh SQLite database (or `database_url`), Slack pointed at `slack_api` (FakeSlack).

    Servers sharing one database must share its encryption `key` too.
    """
    port = free_port()
    database = database or workdir / f"safeguard-{port}.db"
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api,
           "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{database}", "SAFEGUARD_CONFIG": str(school),
           "SAFEGUARD_ENCRYPTION_KEY": key or new_key(), "PORT": str(port), **(extra_env or {})}
    command = [sys.executable, "-c", "from bot.cli.main import main; main()", "serve"]
    return _start("safeguard serve", command, env, workdir / f"safeguard-{port}.log", port)


def start_fake_slack(workdir: Path) -> Server:
    """FakeSlack (tests/e2e/fake_slack.py) in a process of its own, so answering the server costs the load nothing."""
    port = free_port()
    command = [sys.executable, "-m", "bench.fake_slack_server", str(port)]
    return _start("FakeSlack", command, {}, workdir / f"fake-slack-{port}.log", port)


def start_bare_bolt(workdir: Path, *, slack_api: str) -> Server:
    """The bare slack-bolt app (bench/bare_bolt.py), with the same secret and Web API."""
    port = free_port()
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api}
    command = [sys.executable, "-m", "bench.bare_bolt", str(port)]
    return _start("bare slack-bolt", command, env, workdir / f"bare-{port}.log", port)


@asynccontextmanager
async def scratch_database(options: Options, name: str) -> AsyncIterator[str]:
    """A scratch PostgreSQL database of our own on the server given (SQLite without one), dropped afterwards."""
    if options.postgres is None:
        yield f"sqlite+aiosqlite:///{options.workdir / f'{name}.db'}"
        return
    given = make_url(options.postgres)
    scratch = f"safeguard_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(given, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
        try:
            yield given.set(database=scratch).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    finally:
        await admin.dispose()
