"""One Slack app in several workspaces: an IT admin installs it through Slack's OAuth flow, and each
workspace's events reach only the schools that name it, answered with that workspace's own bot token."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import CONSOLE, SLACK, App
from bot.server import SLACK_KEY, Settings, build_server
from routing.school import load_school
from routing.yamlfields import InputError
from bot.channels.slack.install import Workspace
from storage.crypto import looks_like_token
from storage.encrypted import keyring_of
from storage.models import AlertDelivery, Draft
from storage.rotation import unlock
from storage.slack_tables import BOTS, INSTALLATIONS, slack_metadata
from tests.e2e.fake_slack import APP_ID, BOT_USER, CLIENT_ID, CLIENT_SECRET, TEAM, FakeSlack, dm_channel
from tests.e2e.reports import submit
from tests.e2e.slack_rig import SECRET, SLACK_IDS, Clock, Rig, eventually, sign

OTHER_TEAM = "T0HOLLINS1"  # another school's workspace, where the app is installed too
NOWHERE = "T0NOTINST1"  # a workspace where nobody installed it


@pytest.fixture
def school_file(school_file: Path) -> Path:
    """The example school (Oakfield) with everyone's Slack id, naming its own workspace."""
    data = yaml.safe_load(school_file.read_text(encoding="utf-8"))
    data["slack_team"] = TEAM
    school_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return school_file


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """An IT admin's browser: it follows no redirect by itself, and its cookies are the test's to carry."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@pytest.fixture
async def rig(sessions: async_sessionmaker[AsyncSession], school_file: Path,
              fake_slack: tuple[FakeSlack, str]) -> AsyncIterator[Rig]:
    """Our server with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (no bot token), against FakeSlack."""
    fake, fake_url = fake_slack
    clock = Clock()
    app = App(load_school(school_file), sessions, channels=(SLACK, CONSOLE), clock=clock)
    settings = Settings(slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET, slack_signing_secret=SECRET,
                        slack_api_url=f"{fake_url}/api/", outbox_seconds=3600.0, scheduler_seconds=0)
    web_app = build_server(app, settings)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        rig = Rig(str(server.make_url("")).rstrip("/"), fake, app, web_app[SLACK_KEY], http, clock, fake_url)
        yield rig
        await rig.slack.idle()
        await server.close()


async def install_in(rig: Rig, browser: aiohttp.ClientSession, team: str, name: str) -> aiohttp.ClientResponse:
    """An admin of `team` opens /slack/install, approves on Slack's page, and is sent back to /slack/oauth_redirect."""
    async with browser.get(f"{rig.url}/slack/install", allow_redirects=False) as started:
        assert started.status == 302
        to_slack = urlparse(started.headers["Location"])
        cookie = started.cookies["slack-app-oauth-state"].value
    assert f"{to_slack.scheme}://{to_slack.netloc}{to_slack.path}" == "https://slack.com/oauth/v2/authorize"
    asked = parse_qs(to_slack.query)
    assert asked["client_id"] == [CLIENT_ID]
    assert {"chat:write", "im:history", "im:write", "commands"} <= set(asked["scope"][0].split(","))
    state = asked["state"][0]
    assert cookie == state  # the browser that started the install is the one that may finish it
    code = rig.fake.grant(team, name)  # Slack's consent page, approved
    query = urlencode({"code": code, "state": state})
    async with browser.get(f"{rig.url}/slack/oauth_redirect?{query}", allow_redirects=False,
                           headers={"Cookie": f"slack-app-oauth-state={cookie}"}) as back:
        await back.read()
        return back


def signed(body: str) -> dict[str, str]:
    """The headers Slack sends with `body`: its timestamp and signature."""
    at = int(time.time())
    return {"X-Slack-Request-Timestamp": str(at), "X-Slack-Signature": sign(body, at)}


async def dm_from(rig: Rig, team: str, user: str, text: str) -> int:
    """A message typed to the bot by `user` of workspace `team`, delivered as Slack delivers it; our HTTP status."""
    ts = f"{time.time():.6f}"
    event = {"type": "message", "channel": dm_channel(user), "user": user, "text": text, "ts": ts, "event_ts": ts,
             "channel_type": "im", "client_msg_id": str(uuid.uuid4()), "team": team}
    return await event_from(rig, team, event)


async def event_from(rig: Rig, team: str, event: dict[str, object]) -> int:
    """An Events API event of workspace `team`, signed and posted as Slack sends it; our HTTP status."""
    envelope = {"token": "unused-legacy-token", "team_id": team, "api_app_id": APP_ID, "event": event,
                "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": BOT_USER, "is_bot": True,
                                    "is_enterprise_install": False}]}
    body = json.dumps(envelope)
    async with rig.http.post(f"{rig.url}/slack/events", data=body.encode(),
                             headers={"Content-Type": "application/json", **signed(body)}) as answer:
        return answer.status


async def test_an_admin_installs_the_app_and_its_token_is_kept_encrypted_in_our_database(
        rig: Rig, browser: aiohttp.ClientSession, sessions: async_sessionmaker[AsyncSession]) -> None:
    back = await install_in(rig, browser, TEAM, "Oakfield Primary")
    assert back.status == 200
    token = rig.fake.token_of(TEAM)
    assert token is not None
    tables = slack_metadata().tables
    async with sessions() as session:
        bots = (await session.execute(select(tables[BOTS].c.team_id, tables[BOTS].c.bot_token,
                                             tables[BOTS].c.client_id))).all()
        installs = (await session.execute(select(tables[INSTALLATIONS].c.team_id,
                                                 tables[INSTALLATIONS].c.bot_token))).all()
        keyring = keyring_of(session.get_bind().dialect)
    # As stored: the workspace's bot token under the deployment's key, never in plain text.
    assert [(team, client) for team, _, client in bots] == [(TEAM, CLIENT_ID)]
    assert [team for team, _ in installs] == [TEAM]
    for stored in (bots[0][1], installs[0][1]):
        assert token not in stored and looks_like_token(stored) and keyring.decrypt(stored) == token
    assert await rig.slack.install.workspaces.of(rig.app.school) == Workspace(TEAM, token)


async def test_a_token_stored_in_plain_text_before_is_encrypted_at_start_and_still_used(
        rig: Rig, browser: aiohttp.ClientSession, sessions: async_sessionmaker[AsyncSession]) -> None:
    """A deployment installed before tokens were encrypted: its tokens read as they are, then are sealed at start."""
    await install_in(rig, browser, TEAM, "Oakfield Primary")
    token = rig.fake.token_of(TEAM)
    assert token is not None
    tables = slack_metadata().tables
    async with sessions.begin() as session:
        for table in (tables[BOTS], tables[INSTALLATIONS]):
            await session.execute(update(table).values(bot_token=token))  # as slack_sdk's own store wrote it
    assert await rig.slack.install.workspaces.of(rig.app.school) == Workspace(TEAM, token)

    done = await unlock(sessions, now=rig.clock())  # what `safeguard serve` does at start
    assert done.encrypted == 2
    async with sessions() as session:
        stored = (await session.execute(select(tables[BOTS].c.bot_token))).scalar_one()
    assert looks_like_token(stored) and token not in stored
    assert await rig.slack.install.workspaces.of(rig.app.school) == Workspace(TEAM, token)
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    assert (await rig.phone("smorgan").wait_for_said(reference)).token == token


async def test_a_workspace_that_removes_the_app_has_its_token_deleted_and_the_others_keep_theirs(
        rig: Rig, browser: aiohttp.ClientSession, sessions: async_sessionmaker[AsyncSession]) -> None:
    await install_in(rig, browser, TEAM, "Oakfield Primary")
    await install_in(rig, browser, OTHER_TEAM, "Hollins Cross")
    bots = slack_metadata().tables[BOTS]

    async def teams_with_tokens() -> list[str]:
        async with sessions() as session:
            return sorted(await session.scalars(select(bots.c.team_id).where(bots.c.bot_token.is_not(None))))

    assert await teams_with_tokens() == sorted([TEAM, OTHER_TEAM])
    # Hollins Cross's admin revokes the bot's token: it goes; then Oakfield removes the app: all of its rows go.
    assert await event_from(rig, OTHER_TEAM, {"type": "tokens_revoked", "tokens": {"bot": [BOT_USER]},
                                              "event_ts": f"{time.time():.6f}"}) == 200
    async def tokens_left(*teams: str) -> bool:
        return await teams_with_tokens() == list(teams)

    await eventually(lambda: tokens_left(TEAM), "Hollins Cross's token deleted")
    assert await event_from(rig, TEAM, {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}) == 200
    await eventually(lambda: tokens_left(), "Oakfield's token deleted")
    async with sessions() as session:  # nor is either kept in the installations (whose rows hold the token too)
        assert list(await session.scalars(select(slack_metadata().tables[INSTALLATIONS].c.team_id))) == []
    assert await rig.slack.install.workspaces.of(rig.app.school) is None
    # Oakfield's alerts now wait for the app to be installed again, as before its first install.
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()
    async with sessions() as session:
        waiting = (await session.execute(select(AlertDelivery.status, AlertDelivery.last_error))).all()
    assert waiting and all(status != "sent" and "not installed" in str(error) for status, error in waiting)
    assert reference and rig.fake.to("chat.postMessage") == []


async def test_an_install_link_used_twice_or_from_another_browser_stores_nothing(
        rig: Rig, browser: aiohttp.ClientSession, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with browser.get(f"{rig.url}/slack/install", allow_redirects=False) as started:
        state = parse_qs(urlparse(started.headers["Location"]).query)["state"][0]
    code = rig.fake.grant(TEAM, "Oakfield Primary")
    # No state cookie: not the browser that began the install.
    async with browser.get(f"{rig.url}/slack/oauth_redirect?{urlencode({'code': code, 'state': state})}") as back:
        assert back.status == 400
    # A state never issued.
    async with browser.get(f"{rig.url}/slack/oauth_redirect?{urlencode({'code': code, 'state': 'forged'})}",
                           headers={"Cookie": "slack-app-oauth-state=forged"}) as back:
        assert back.status == 401
    async with sessions() as session:
        assert (await session.execute(select(slack_metadata().tables[BOTS].c.team_id))).all() == []
    assert rig.fake.token_of(TEAM) is None


async def test_a_report_in_an_installed_workspace_alerts_the_dsl_with_that_workspaces_token(
        rig: Rig, browser: aiohttp.ClientSession) -> None:
    assert (await install_in(rig, browser, TEAM, "Oakfield Primary")).status == 200
    assert (await install_in(rig, browser, OTHER_TEAM, "Hollins Cross")).status == 200
    oakfield, hollins = rig.fake.token_of(TEAM), rig.fake.token_of(OTHER_TEAM)
    teacher, dsl = rig.phone("cfinch"), rig.phone("smorgan")
    for words in ("pupil_disclosure", "no", "victim", "Mia Hart", "skip", "She told me at break.", "no",
                  "with_me", "no", "no"):
        await teacher.type(words)
    await teacher.tap("Send")
    alert = await dsl.wait_for_said("for you to acknowledge")
    assert alert.token == oakfield
    # Every call the server made for the report went as Oakfield's bot: none with the other
    # workspace's token, none without (each install's own auth.test asks who its new token is).
    made = [call for call in rig.fake.calls if call.method not in ("oauth.v2.access", "auth.test")]
    assert len(made) > 10 and {call.token for call in made} == {oakfield}
    assert hollins not in {call.token for call in rig.fake.calls if call.method != "auth.test"}


async def test_the_outbox_sends_an_alert_as_the_bot_of_the_schools_workspace(
        rig: Rig, browser: aiohttp.ClientSession) -> None:
    # A report whose alert waits in the outbox (its first send failed, or a restart came between).
    reference = await submit(rig.app)
    await rig.slack.outbox.deliver()  # the outbox's own round: no Slack request in hand to take a token from
    async with rig.app.sessions() as session:
        waiting = (await session.execute(select(AlertDelivery.status, AlertDelivery.last_error))).all()
    assert waiting and all(status != "sent" and "not installed" in str(error) for status, error in waiting)
    assert rig.fake.to("chat.postMessage") == []
    assert (await install_in(rig, browser, OTHER_TEAM, "Hollins Cross")).status == 200
    assert (await install_in(rig, browser, TEAM, "Oakfield Primary")).status == 200
    rig.clock.advance(60)  # past the retry's wait
    await rig.slack.outbox.deliver()
    alert = await rig.phone("smorgan").wait_for_said(reference)
    assert alert.token == rig.fake.token_of(TEAM)


async def test_someone_in_another_workspace_is_not_taken_for_this_schools_staff(
        rig: Rig, browser: aiohttp.ClientSession) -> None:
    assert (await install_in(rig, browser, OTHER_TEAM, "Hollins Cross")).status == 200
    hollins = rig.fake.token_of(OTHER_TEAM)
    # The same user id string as Oakfield's DSL, but in Hollins Cross's workspace: not her.
    assert await dm_from(rig, OTHER_TEAM, SLACK_IDS["smorgan"], "hello") == 200
    answer = (await rig.fake.wait_for("chat.postMessage", channel=dm_channel(SLACK_IDS["smorgan"])))[0]
    assert "doesn't know your Slack account" in answer.text()
    assert answer.token == hollins
    await rig.slack.idle()
    async with rig.app.sessions() as session:
        assert (await session.execute(select(Draft))).all() == []


async def test_a_workspace_that_has_not_installed_the_app_is_told_how_to_get_it(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    form = {"token": "unused-legacy-token", "team_id": NOWHERE, "team_domain": "elsewhere", "channel_id": "C0STAFFROOM",
            "channel_name": "staffroom", "user_id": SLACK_IDS["cfinch"], "user_name": "cfinch", "command": "/report",
            "text": "", "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": f"{rig.fake_url}/response/{SLACK_IDS['cfinch']}/C0STAFFROOM/1",
            "trigger_id": "1.1790000000.abc"}
    body = urlencode(form)
    async with rig.http.post(f"{rig.url}/slack/events", data=body.encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded", **signed(body)}) as answer:
        said = await answer.text()

    async def told() -> bool:
        return "not installed" in said or any("not installed" in c.text() for c in rig.fake.to("response_url"))

    await eventually(told, "the not-installed answer")
    assert NOWHERE in caplog.text
    assert "Finch" not in caplog.text  # by reference only: no names


def test_half_set_oauth_credentials_are_refused_with_what_to_do() -> None:
    with pytest.raises(InputError, match="SLACK_CLIENT_SECRET is empty"):
        Settings.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_SIGNING_SECRET": SECRET})
    with pytest.raises(InputError, match="SLACK_CLIENT_ID is empty"):
        Settings.from_env({"SLACK_CLIENT_SECRET": CLIENT_SECRET, "SLACK_SIGNING_SECRET": SECRET})
    with pytest.raises(InputError, match="SLACK_SIGNING_SECRET is empty"):
        Settings.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET})
    with pytest.raises(InputError, match="unset SLACK_BOT_TOKEN"):
        Settings.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                           "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-1"})
    settings = Settings.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                                  "SLACK_SIGNING_SECRET": SECRET})
    assert settings.slack and settings.slack_workspaces


def test_a_school_config_names_its_workspace_in_slacks_own_shape(school_file: Path) -> None:
    assert load_school(school_file).slack_team == TEAM
    text = school_file.read_text(encoding="utf-8").replace(f"slack_team: {TEAM}", "slack_team: oakfield.slack.com")
    school_file.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"school\.yaml: slack_team: 'oakfield.slack.com' is not a Slack workspace id"):
        load_school(school_file)
