"""FakeSlack in a process of its own (`python -m bench.fake_slack_server PORT`), with a count of what it got."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bench.processes import free_port
from tests.e2e.fake_slack import FakeSlack


def application() -> web.Application:
    fake = FakeSlack()
    server = fake.application()

    async def counts(_request: web.Request) -> web.Response:
        """GET /bench/counts: how many calls of each Web API method arrived."""
        return web.json_response(dict(Counter(call.method for call in fake.calls)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    server.router.add_get("/bench/counts", counts)
    server.router.add_get("/healthz", healthz)
    return server


@asynccontextmanager
async def fake_slack_here() -> AsyncIterator[tuple[FakeSlack, str]]:
    """FakeSlack in the bench's own process (where the phones read what arrived, and when), and its URL."""
    fake = FakeSlack()
    runner = web.AppRunner(fake.application(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    web.run_app(application(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
