"""A request body from Slack or Teams, read the same way by both: bounded, UTF-8, JSON that is Unicode."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# The largest body the server reads. Slack's largest payload is an interaction that carries back
# one of our messages (at most 50 blocks of 3,000 characters, URL-encoded: about 1.4 MB at worst);
# a Teams activity is far smaller (Teams refuses a message over 28 KB).
MAX_BODY_BYTES = 2 * 1024 * 1024
TOO_BIG = f"the request body is over {MAX_BODY_BYTES // (1024 * 1024)} MiB, more than Safeguard accepts"


class BadBody(ValueError):
    """A body a channel cannot read, and the 4xx it is answered with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status

    def response(self) -> web.Response:
        """The plain answer to send."""
        return web.Response(status=self.status, text=str(self))


async def read_text(request: web.Request) -> str:
    """The body as text: JSON and Slack's forms are UTF-8 whatever charset a header names."""
    raw = await request.read()  # over the app's client_max_size, aiohttp raises its 413 here
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody(400, "the request body is not UTF-8 text") from None


def load_json(text: str) -> Any:
    """Parsed JSON; a BadBody (400) for anything else, too deeply nested, or holding a lone surrogate."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # `[[[[...` a few thousand deep exhausts the parser's recursion
        raise BadBody(400, "the request body is not JSON") from None
    if has_lone_surrogate(value):
        raise BadBody(400, "the request body holds text that is not Unicode (a lone surrogate escape)")
    return value


def has_lone_surrogate(value: object) -> bool:
    """Whether parsed JSON holds a string with a lone surrogate (`"\\ud800"`: valid JSON, but not text).

    Such a string cannot be encoded as UTF-8, so it could not be stored, logged or hashed.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return True
        elif isinstance(item, dict):
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
