"""Files in Teams: an image sent in the 1:1 chat fetched with the bot's token from the Bot Framework's own host,
a report's screenshots sent back as inline images, and its export as a file, into one person's 1:1 chat."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from botbuilder.core import BotAdapter  # type: ignore[import-untyped]
from botbuilder.schema import Activity, ActivityTypes, Attachment  # type: ignore[import-untyped]

from bot.cases import preview
from bot.cases.evidence import Fetch, FetchFailed, Incoming, Picture
from bot.cases.report_export import CONTENT_TYPES, Exported
from bot.channels.download import download

Token = Callable[[], Awaitable[str | None]]


def incoming(attachments: Sequence[Any], service_url: str, token: Token) -> list[Incoming]:
    """The files of a message: each fetched (if at all) from the chat's own service host, with the bot's token."""
    found = []
    for attachment in attachments:
        url = attachment.content_url
        if not url and isinstance(attachment.content, dict):
            url = attachment.content.get("downloadUrl")  # a file from OneDrive or SharePoint: not Teams' own host
        found.append(Incoming(_fetcher(url if isinstance(url, str) else "", service_url, token)))
    return found


def _fetcher(url: str, service_url: str, token: Token) -> Fetch:
    async def fetch(limit: int) -> bytes:
        if not url:
            raise FetchFailed("Teams gave no address for the file")
        bearer = await token()
        # The token goes only to the Bot Framework's own host (download checks, redirects included).
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        async with aiohttp.ClientSession() as session:
            return await download(session, url, base=service_url, limit=limit, headers=headers)

    return fetch


def bot_token(context: Any) -> Token:
    """The bot's own token for this turn's Bot Connector, if it has one (none in anonymous local mode)."""
    async def token() -> str | None:
        client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        credentials = getattr(getattr(client, "config", None), "credentials", None)
        if credentials is None or not getattr(credentials, "microsoft_app_id", None):
            return None
        # botframework asks Microsoft for the token with blocking `requests`: not on the event loop.
        got = await asyncio.to_thread(credentials.get_access_token)
        return got if isinstance(got, str) else None

    return token


def pictures_activity(pictures: Sequence[Picture], reference: str) -> Any:
    """A report's screenshots as one message of inline images (data URIs), previewed by reference only."""
    attachments = [
        Attachment(content_type=picture.content_type, name=picture.name,
                   content_url=f"data:{picture.content_type};base64,{base64.b64encode(picture.data).decode('ascii')}")
        for picture in pictures
    ]
    return Activity(type=ActivityTypes.message, summary=preview.line("the screenshots you asked for", reference),
                    attachments=attachments)


def document_activity(document: Exported) -> Any:
    """A report's exported document as one message with the file inline (a data URI), previewed by reference only."""
    kind = CONTENT_TYPES[document.fmt]
    attachment = Attachment(content_type=kind.split(";")[0], name=document.name,
                            content_url=f"data:{kind.split(';')[0]};base64,{base64.b64encode(document.data).decode('ascii')}")
    return Activity(type=ActivityTypes.message, summary=preview.line("the export you asked for", document.reference),
                    attachments=[attachment])
