"""Teams settings from the environment, the authenticated mode's refusals, and the outbox's own rounds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import TEAMS, App
from bot.channels.teams import TeamsSettings, add_teams_routes
from bot.channels.teams.people import References
from routing.school import load_school
from routing.yamlfields import InputError
from tests.teams.fake_connector import FakeBotConnector
from tests.teams.rig import BOT, Rig

APP_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"  # made up
TENANT = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"  # made up


def test_no_app_id_is_the_anonymous_local_mode() -> None:
    settings = TeamsSettings.from_env({})
    assert settings.anonymous and settings.app_type == "MultiTenant"


def test_the_app_type_is_read_in_any_case() -> None:
    settings = TeamsSettings.from_env({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_TYPE": "singletenant",
                                       "MICROSOFT_APP_PASSWORD": "made-up", "MICROSOFT_APP_TENANT_ID": TENANT})
    assert (settings.app_type, settings.anonymous) == ("SingleTenant", False)
    assert "made-up" not in repr(settings)


@pytest.mark.parametrize(("env", "names"), [
    ({"MICROSOFT_APP_TYPE": "Everyone"}, "MICROSOFT_APP_TYPE"),
    ({"MICROSOFT_APP_PASSWORD": "made-up"}, "MICROSOFT_APP_ID is empty"),
    ({"MICROSOFT_APP_ID": APP_ID}, "MICROSOFT_APP_PASSWORD is empty"),
    ({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "x", "MICROSOFT_APP_TYPE": "SingleTenant"},
     "MICROSOFT_APP_TENANT_ID is empty"),
    ({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_TYPE": "UserAssignedMSI"}, "MICROSOFT_APP_TENANT_ID is empty"),
    ({"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "x", "MICROSOFT_APP_TYPE": "UserAssignedMSI",
      "MICROSOFT_APP_TENANT_ID": TENANT}, "must be empty for a UserAssignedMSI"),
])
def test_settings_botbuilder_would_reject_later_are_refused_at_start(env: dict[str, str], names: str) -> None:
    with pytest.raises(InputError, match=names):
        TeamsSettings.from_env(env)


async def test_with_an_app_id_an_unsigned_request_is_refused(
    sessions: async_sessionmaker[AsyncSession], school_file: Path, fake_connector: tuple[FakeBotConnector, str],
) -> None:
    fake, fake_url = fake_connector
    app = App(load_school(school_file), sessions, channels=(TEAMS,))
    web_app = web.Application()
    add_teams_routes(web_app, app, TeamsSettings(app_id=APP_ID, app_password="made-up-secret", outbox_seconds=0))
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    activity = {"type": "message", "id": "1", "channelId": "msteams", "serviceUrl": fake_url + "/", "text": "hello",
                "from": {"id": "29:1cfinch-teams"}, "recipient": BOT, "conversation": {"id": "a:1made-up"}}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(server.make_url("/api/messages"), json=activity) as response:
                assert response.status == 401
    finally:
        await server.close()
    assert fake.sent == []


class FarAway:
    """A transport whose peer is another machine (TEST-NET-1, so no real one)."""

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("192.0.2.10", 50000) if name == "peername" else default


async def test_the_anonymous_mode_answers_this_machine_only(rig: Rig) -> None:
    request = make_mocked_request("POST", "/api/messages", headers={"Content-Type": "application/json"},
                                  transport=FarAway())
    response = await rig.teams.handle(request)
    assert response.status == 403 and "this machine only" in str(response.text)


async def test_the_outbox_sends_on_its_own_rounds(make_rig: Callable[..., Awaitable[Rig]]) -> None:
    rig = await make_rig(outbox_seconds=0.05)
    teacher, dsl = rig.user("cfinch"), rig.user("smorgan")
    card = await teacher.says("Pupil disclosure")
    for answer in ("No", "The child is the victim", "Mia Hart", "Skip", "A made-up account", "No", "With me", "No", "No"):
        card = await teacher.says(answer)
    await teacher.taps(card.action("Send"))
    assert await rig.teams.idle()  # the send after the turn has run, and found no chat with the DSL
    assert rig.fake.to(dsl.conversation["id"]) == []
    # Another server process learnt the DSL's chat: only a round of this server's outbox can send the alert.
    await References(rig.app).remember("smorgan", {
        "bot": BOT, "user": {"id": dsl.teams_id}, "conversation": dsl.conversation,
        "channelId": "msteams", "serviceUrl": rig.fake_url + "/"})
    alert = await rig.fake.wait_for(lambda s: s.conversation_id == dsl.conversation["id"])
    assert "New report SG-2026-0001" in alert.text()
