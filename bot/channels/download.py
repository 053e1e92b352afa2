"""Fetching a file someone sent: with the bot's own credentials, from the platform's own host, never past a limit.

A message can name any address; fetching whatever it names would let a sender make the server
call into the school's network (server-side request forgery). So a file is fetched only from
the host of the platform's own API (or a subdomain of it: Slack serves files from
files.slack.com beside slack.com), on the same scheme and port, and a redirect is followed only
to such a host. The size is checked from the headers before reading, and reading stops as soon
as it passes the limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urljoin, urlparse

import aiohttp

from bot.cases.evidence import FetchFailed, TooLarge

CHUNK = 64 * 1024
REDIRECTS = 3
FETCH_SECONDS = 30


def same_platform(url: str, base: str) -> bool:
    """Whether `url` is on the host of `base` or a subdomain of it, with the same scheme and port, and no credentials."""
    try:
        found, allowed = urlparse(url), urlparse(base)
        ports = found.port, allowed.port  # ValueError for a port that is not a number
    except ValueError:
        return False
    host, home = (found.hostname or "").lower(), (allowed.hostname or "").lower()
    if not host or not home or found.scheme not in ("http", "https") or found.scheme != allowed.scheme:
        return False
    if found.username is not None or found.password is not None or ports[0] != ports[1]:
        return False
    return host == home or host.endswith("." + home)


async def download(session: aiohttp.ClientSession, url: str, *, base: str, limit: int,
                   headers: Mapping[str, str] | None = None) -> bytes:
    """The bytes at `url`, which must be on `base`'s platform (FetchFailed otherwise); TooLarge past `limit`."""
    for _ in range(REDIRECTS + 1):
        if not same_platform(url, base):
            raise FetchFailed("the file is not on the platform's own host, so it was not fetched")
        try:
            async with session.get(url, headers=dict(headers or {}), allow_redirects=False,
                                   timeout=aiohttp.ClientTimeout(total=FETCH_SECONDS)) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status != 200:
                    raise FetchFailed(f"the platform answered HTTP {response.status}")
                if response.content_length is not None and response.content_length > limit:
                    raise TooLarge()
                data = bytearray()
                async for chunk in response.content.iter_chunked(CHUNK):
                    data += chunk
                    if len(data) > limit:
                        raise TooLarge()  # leaving the block closes the connection: nothing more is read
                return bytes(data)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise FetchFailed(f"the network failed: {type(exc).__name__}") from None
    raise FetchFailed("too many redirects")
