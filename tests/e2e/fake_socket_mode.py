"""Slack's Socket Mode as far as Safeguard uses it, on 127.0.0.1: the socket URL, hello, envelopes and their acks.

apps.connections.open (answered by FakeSlack, with an app-level token) hands out a
`ws://127.0.0.1:PORT/socket/N` URL; a connection to it gets `hello`, then the envelopes a test
sends, each of which waits (bounded) for its acknowledgement `{"envelope_id": ..., "payload": ...}`.
A test can ask the client to reconnect (`disconnect`, reason refresh_requested) or drop it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_TOKEN = "xapp-1-A0SAFEGUARD-2041-socketmode"


@dataclass
class Connection:
    """One WebSocket from the app, from hello to close."""

    number: int
    socket: web.WebSocketResponse
    closed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeSocketMode:
    """The Socket Mode server: URLs handed out, connections taken, envelopes sent and acknowledged."""

    app_tokens: set[str] = field(default_factory=lambda: {APP_TOKEN})
    opened: list[str] = field(default_factory=list)  # each URL apps.connections.open handed out
    connections: list[Connection] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # by envelope id, as the app sent them
    sent: list[dict[str, Any]] = field(default_factory=list)  # every envelope sent, in order
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _acked: dict[str, asyncio.Event] = field(default_factory=dict)

    def open(self, origin: str) -> dict[str, Any]:
        """apps.connections.open: a fresh URL for one connection (Slack's are single-use and short-lived)."""
        url = f"ws{origin.removeprefix('http')}/socket/{next(self._numbers)}"
        self.opened.append(url)
        return {"url": url}

    async def connect(self, request: web.Request) -> web.WebSocketResponse:
        """GET /socket/N: the app's WebSocket; hello first, then read acks until it closes."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = Connection(int(request.match_info["number"]), socket)
        self.connections.append(connection)
        await socket.send_json({"type": "hello", "num_connections": 1,
                                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                                "connection_info": {"app_id": "A0SAFEGUARD"}})
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    envelope = str(ack.get("envelope_id"))
                    self.acks[envelope] = ack
                    self._acked.setdefault(envelope, asyncio.Event()).set()
        finally:
            connection.closed.set()
        return socket

    def live(self) -> Connection | None:
        """The newest connection still open."""
        return next((c for c in reversed(self.connections) if not c.closed.is_set() and not c.socket.closed), None)

    async def wait_for_connection(self, count: int = 1, timeout: float = 10.0) -> Connection:
        """Wait (bounded) until the app has opened `count` connections and the newest is open."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.connections) < count or (live := self.live()) is None:
            assert asyncio.get_running_loop().time() < deadline, f"waited {timeout}s for connection {count}"
            await asyncio.sleep(0.01)
        return live

    async def envelope(self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None,
                       retry_attempt: int | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """Send one envelope on the open connection; the app's acknowledgement (waited for, bounded)."""
        connection = await self.wait_for_connection()
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt or 0, "retry_reason": "timeout" if retry_attempt else ""}
        acked = self._acked[envelope_id] = asyncio.Event()  # a second delivery waits for its own ack
        self.sent.append(envelope)
        await connection.socket.send_json(envelope)
        await asyncio.wait_for(acked.wait(), timeout)
        return self.acks[envelope_id]

    async def refresh(self) -> Connection:
        """Tell the app to reconnect, as Slack does every few hours (reason refresh_requested); its new connection."""
        old = await self.wait_for_connection()
        count = len(self.connections)
        await old.socket.send_json({"type": "disconnect", "reason": "refresh_requested",
                                    "debug_info": {"host": "applink-fake"}})
        new = await self.wait_for_connection(count + 1)
        await asyncio.wait_for(old.closed.wait(), 10)  # the app closes the old one itself
        return new

    async def drop(self) -> Connection:
        """Close the connection from Slack's side (a deploy, a lost route); the app's new connection."""
        old = await self.wait_for_connection()
        count = len(self.connections)
        await old.socket.close()
        return await self.wait_for_connection(count + 1)
