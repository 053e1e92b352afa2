"""Files in Slack: a screenshot shared in the DM with the bot fetched with the bot's token; screenshots and exports uploaded to a DM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases.evidence import Fetch, FetchFailed, Incoming, Picture
from bot.cases.report_export import Exported
from bot.channels.download import download


def incoming(event: dict[str, Any], client: AsyncWebClient) -> list[Incoming]:
    """The files of a `file_share` message, each fetched (if it is fetched at all) from Slack with the bot's token."""
    files = event.get("files")
    found = []
    for shared in files if isinstance(files, list) else []:
        if not isinstance(shared, dict):
            continue
        url = shared.get("url_private_download") or shared.get("url_private")
        size = shared.get("size")
        found.append(Incoming(_fetcher(client, url if isinstance(url, str) else ""),
                              size if isinstance(size, int) and not isinstance(size, bool) else None))
    return found


def _fetcher(client: AsyncWebClient, url: str) -> Fetch:
    async def fetch(limit: int) -> bytes:
        if not url:
            raise FetchFailed("Slack gave no address for the file")
        # Slack's files need the bot's own token; it is sent only to Slack's own host (download checks).
        headers = {"Authorization": f"Bearer {client.token}"}
        if client.session is not None:
            return await download(client.session, url, base=client.base_url, limit=limit, headers=headers)
        async with aiohttp.ClientSession() as session:
            return await download(session, url, base=client.base_url, limit=limit, headers=headers)

    return fetch


async def upload(client: AsyncWebClient, dm: str, pictures: Sequence[Picture], reference: str) -> None:
    """Upload a report's screenshots into one person's DM with the bot (files_upload_v2: never a channel)."""
    await client.files_upload_v2(
        channel=dm,
        file_uploads=[{"file": picture.data, "filename": picture.name, "title": picture.name,
                       "alt_txt": f"Screenshot {number} sent with report {reference}"}
                      for number, picture in enumerate(pictures, start=1)],
    )


async def upload_document(client: AsyncWebClient, dm: str, document: Exported) -> None:
    """Upload a report's exported document into one person's DM with the bot; its title says the reference and "export" only."""
    await client.files_upload_v2(channel=dm, file=document.data, filename=document.name,
                                 title=f"{document.reference} export")
