"""The server's own guard: a body too big is refused before it is read, and a fault of ours is a plain 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.exc import OperationalError

from bot.channels.http_body import MAX_BODY_BYTES, TOO_BIG
from bot.server import answer_plainly
from tests.e2e.slack_rig import Rig


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any database is touched
async def test_a_body_over_the_limit_gets_a_413_saying_so(rig: Rig) -> None:
    too_big = b"x" * (MAX_BODY_BYTES + 1)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: only reading it finds it too big
        for start in range(0, len(too_big), 256 * 1024):
            yield too_big[start:start + 256 * 1024]

    for path in ("/slack/events", "/api/messages"):
        for data in (too_big, chunks()):
            async with rig.http.post(f"{rig.url}{path}", data=data,
                                     headers={"Content-Type": "application/json"}) as answer:
                assert (answer.status, await answer.text()) == (413, TOO_BIG), path
    assert rig.fake.calls == []
    async with rig.http.get(f"{rig.url}/healthz") as answer:
        assert answer.status == 200


async def raises(request: web.Request) -> web.Response:
    """A handler that meets what it did not expect (here, on purpose): the database, or a bug."""
    if request.query.get("what") == "database":
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))
    if request.query.get("what") == "not found":
        raise web.HTTPNotFound(text="no such report")
    raise RuntimeError("a bug")


async def test_what_a_handler_did_not_expect_is_a_plain_5xx_never_a_200(caplog: pytest.LogCaptureFixture) -> None:
    app = web.Application(middlewares=[answer_plainly])
    app.router.add_get("/raises", raises)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            # The database down: 503 with Retry-After, so Slack and Teams try again later.
            async with http.get(server.make_url("/raises?what=database")) as answer:
                assert answer.status == 503 and answer.headers["Retry-After"] == "30"
                assert await answer.text() == "Safeguard cannot reach its database just now; try again shortly"
            async with http.get(server.make_url("/raises")) as answer:
                assert answer.status == 500
                assert await answer.text() == "Safeguard could not handle this request; the error is in its log"
            async with http.get(server.make_url("/raises?what=not+found")) as answer:
                assert (answer.status, await answer.text()) == (404, "no such report")  # aiohttp's own answers pass
    finally:
        await server.close()
    logged = [r for r in caplog.records if r.name == "bot.server"]
    assert [r.getMessage() for r in logged] == ["GET /raises: the database did not answer", "GET /raises failed"]
    assert all(r.exc_info for r in logged)  # the traceback is in the log, not in the answer
