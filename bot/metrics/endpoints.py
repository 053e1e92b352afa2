"""GET /metrics for Prometheus and GET /readyz for a load balancer, and the count of every request answered.

The server faces the internet and a school's count of disclosures is nobody else's business:
/metrics answers only the machine itself (a loopback peer that no proxy says forwarded the
request) or a scraper holding SAFEGUARD_METRICS_TOKEN; anyone else gets 403 and no figures.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from bot.app import CONSOLE, STORE_ERRORS, App
from bot.metrics import figures

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
APP_KEY = web.AppKey("metrics_app", App)
TOKEN_KEY = web.AppKey("metrics_token", str)
MAX_AGE_KEY = web.AppKey("ready_max_queue_age", float)
# Headers a reverse proxy on this machine adds when it passes on a request from elsewhere.
FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
UNMATCHED = "other"  # a path that is none of our routes: counted, never named (it is whatever was asked)


def add_routes(server: web.Application, app: App, *, token: str | None, max_queue_age: float) -> None:
    """Serve /metrics and /readyz; count every request answered (install `counted` as a middleware too)."""
    server[APP_KEY] = app
    server[MAX_AGE_KEY] = max_queue_age
    if token:
        server[TOKEN_KEY] = token
    server.router.add_get("/metrics", metrics)
    server.router.add_get("/readyz", readyz)


@web.middleware
async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the answer to every request by our route (never the path asked) and HTTP status."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else UNMATCHED
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _count(request, route, exc.status)
        raise
    except BaseException:
        _count(request, route, 500)
        raise
    _count(request, route, response.status)
    return response


def _count(request: web.Request, route: str, status: int) -> None:
    if APP_KEY in request.app:
        request.app[APP_KEY].metrics.answered(route, status)


def allowed(request: web.Request) -> bool:
    """The machine itself (a loopback peer, nothing forwarded), or the bearer of the metrics token."""
    token = request.app.get(TOKEN_KEY)
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        # Compared in constant time: how long a wrong guess takes says nothing of the token.
        return hmac.compare_digest(given.removeprefix("Bearer ").strip().encode(), token.encode())
    if any(header in request.headers for header in FORWARDED):
        return False  # a proxy on this machine passing on someone else's request
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False  # a Unix socket, or no peer address: not known to be this machine


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: this process's counters and the database's figures, in Prometheus' text format."""
    if not allowed(request):
        log.warning("GET /metrics refused: not from this machine, and no valid metrics token")
        return web.Response(status=403, text="Forbidden: /metrics answers this machine, or SAFEGUARD_METRICS_TOKEN\n")
    app = request.app[APP_KEY]
    try:
        found: figures.Figures | None = await figures.read(app.sessions, app.now())
    except STORE_ERRORS:
        log.exception("GET /metrics: the database did not answer")
        found = None
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(figures.Snapshot(found, tuple(school.key for school in app.trust.schools)))
    body = generate_latest(app.metrics.registry) + generate_latest(snapshot)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz: 200 when the database answers and no message has waited too long to be sent; else 503, and why."""
    app = request.app[APP_KEY]
    bound = request.app[MAX_AGE_KEY]
    try:
        async with app.sessions() as session:
            await session.execute(text("SELECT 1"))
        found = await figures.read(app.sessions, app.now())
    except STORE_ERRORS:
        log.exception("readiness check: the database did not answer")
        return _not_ready("the database does not answer")
    # The console's outbox is read by whoever runs `safeguard chat`, not sent by this server.
    age = found.oldest_age(tuple(channel for channel in app.channels if channel != CONSOLE))
    if age is not None and age > bound:
        return _not_ready(f"a message has waited {age:.0f} s to be sent (more than {bound:g} s)")
    return web.Response(text="ready\n")


def _not_ready(why: str) -> web.Response:
    return web.Response(status=503, text=f"not ready: {why}\n", headers={"Retry-After": "30"})
