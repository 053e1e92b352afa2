"""The Slack manifest declares exactly what the code registers and the scopes of the methods it calls."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import CONSOLE, SLACK, App
from bot.examples import EXAMPLE_SCHOOL
from bot.channels.slack import SlackChannel
from bot.channels.slack import files
from bot.channels.slack.ids import EVENTS_PATH
from bot.channels.slack.install import BOT_SCOPES, REDIRECT_PATH
from routing.school import load_school
from storage.db import create_engine, sessionmaker
from tests.builders import TEST_KEYS
from tests.e2e.fake_slack import ANSWERS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest" / "slack" / "manifest.yaml"
REQUEST_URL = f"https://YOUR-SERVER.example{EVENTS_PATH}"
# The bot scopes each Web API method needs, as Slack documents them (docs.slack.dev/reference/methods),
# for how Safeguard calls it: in direct messages. A method the code starts calling must be added
# here, and its scopes to the manifest, or this test fails.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.open": {"im:write"},  # (channels:manage, groups:write or mpim:write for other kinds)
    "conversations.history": {"im:history"},  # (channels:, groups:, mpim:history for other kinds)
    "views.open": set(),
    "views.update": set(),
    "views.publish": set(),
    # users:read.email "must be requested at the same time as users:read" (Slack's scope page).
    "users.lookupByEmail": {"users:read", "users:read.email"},
    "users.info": {"users:read"},  # `safeguard doctor`: each Slack id in the config is an active person
    "files.getUploadURLExternal": {"files:write"},  # files_upload_v2: the digest's chart, a report's screenshots
    "files.completeUploadExternal": {"files:write"},
}
EVENT_SCOPES: dict[str, set[str]] = {"message.im": {"im:history"}, "app_home_opened": set(), "app_uninstalled": set(),
                                   "tokens_revoked": set()}
# Methods bolt calls itself, whatever the listeners do (who the bot is, on the first request).
BOLT_CALLS = {"auth.test"}


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def web_api_methods(client_method: str) -> set[str]:
    """The Web API methods one AsyncWebClient method calls, read from slack_sdk's source.

    Most call one (chat_postMessage: chat.postMessage); a helper such as files_upload_v2 calls
    others of the client's methods, which are followed.
    """
    source = inspect.getsource(getattr(AsyncWebClient, client_method))
    found = set(re.findall(r'api_call\(\s*"([A-Za-z.]+)"', source))
    for other in set(re.findall(r"self\.([A-Za-z]\w*)\(", source)) - {client_method}:
        if other in CLIENT_METHODS:
            found |= web_api_methods(other)
    return found


# Every public method of slack_sdk's client that is a Web API call (not api_call itself).
CLIENT_METHODS = {name for name in dir(AsyncWebClient) if not name.startswith("_") and name != "api_call"
                  and callable(getattr(AsyncWebClient, name))}


def client_calls(source: str) -> set[str]:
    """The names of slack_sdk client methods called in `source` (any `x.chat_postMessage(...)`)."""
    return {node.func.attr for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLIENT_METHODS}


def methods_called() -> set[str]:
    """The Web API methods the code under bot/ calls, found by reading it (and bolt's own)."""
    found = set(BOLT_CALLS)
    for path in (ROOT / "bot").rglob("*.py"):
        for name in client_calls(path.read_text(encoding="utf-8")):
            found |= web_api_methods(name)
    return found


def channel() -> SlackChannel:
    app = App(load_school(EXAMPLE_SCHOOL), sessionmaker(create_engine("sqlite+aiosqlite://", keys=TEST_KEYS)), channels=(SLACK, CONSOLE))
    return SlackChannel(app, token="xoxb-unused", signing_secret="unused", api_url="http://127.0.0.1:9/api/")


async def test_the_manifest_declares_what_the_app_listens_for() -> None:
    registered = channel().registered
    data = manifest()
    features, settings = data["features"], data["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == registered.events
    assert {c["command"] for c in features["slash_commands"]} == registered.commands
    assert {s["callback_id"] for s in features["shortcuts"] if s["type"] == "global"} == registered.shortcuts
    assert settings["interactivity"]["is_enabled"] is bool(registered.actions or registered.views)
    assert features["app_home"]["home_tab_enabled"] is ("app_home_opened" in registered.events)
    assert features["app_home"]["messages_tab_enabled"] is ("message.im" in registered.events)
    assert features["app_home"]["messages_tab_read_only_enabled"] is False  # staff type to the bot
    assert settings["socket_mode_enabled"] is False  # Safeguard takes HTTP requests at EVENTS_PATH


async def test_every_request_url_is_the_events_endpoint() -> None:
    data = manifest()
    urls = [data["settings"]["event_subscriptions"]["request_url"], data["settings"]["interactivity"]["request_url"]]
    urls += [c["url"] for c in data["features"]["slash_commands"]]
    assert urls == [REQUEST_URL] * len(urls)


def test_the_scopes_are_exactly_those_the_code_needs() -> None:
    called = methods_called()
    assert called <= set(METHOD_SCOPES), f"add the scopes of {called - set(METHOD_SCOPES)} to METHOD_SCOPES"
    data = manifest()
    needed = set().union(*(METHOD_SCOPES[m] for m in called))
    needed |= set().union(*(EVENT_SCOPES[e] for e in data["settings"]["event_subscriptions"]["bot_events"]))
    if data["features"].get("slash_commands") or data["features"].get("shortcuts"):
        needed.add("commands")
    if "download" in inspect.getsource(files):
        needed.add("files:read")  # a file's url_private_download is fetched with the bot's token, not a Web API call
    assert set(data["oauth_config"]["scopes"]["bot"]) == needed


def test_the_scan_finds_calls_however_they_are_made() -> None:
    """The scan reads calls, not a list: a new call anywhere under bot/ is found, helpers followed."""
    source = "async def f(c):\n    await c.files_upload_v2(channel='D1', file=b'')\n    x.reactions_add(name='eyes')\n"
    assert client_calls(source) == {"files_upload_v2", "reactions_add"}
    assert web_api_methods("files_upload_v2") == {"files.getUploadURLExternal", "files.completeUploadExternal"}
    assert web_api_methods("reactions_add") == {"reactions.add"}
    assert {"conversations.open", "chat.postMessage", "files.getUploadURLExternal", "users.lookupByEmail"} \
        <= methods_called()


def test_the_fake_slack_answers_every_method_the_code_calls() -> None:
    assert methods_called() <= set(ANSWERS)


def test_an_install_asks_for_the_scopes_of_the_manifest() -> None:
    """In several workspaces each install asks Slack for the app's scopes: exactly the manifest's."""
    data = manifest()
    assert set(BOT_SCOPES) == set(data["oauth_config"]["scopes"]["bot"])
    assert data["oauth_config"]["redirect_urls"] == [f"https://YOUR-SERVER.example{REDIRECT_PATH}"]


SOCKET_MODE_MANIFEST = ROOT / "manifest" / "slack" / "manifest-socket-mode.yaml"


def without_addresses(data: dict[str, Any]) -> dict[str, Any]:
    """A manifest with every address of our server taken out: what a Socket Mode app has no need of."""
    stripped = yaml.safe_load(yaml.safe_dump(data))
    for command in stripped["features"].get("slash_commands", []):
        command.pop("url", None)
    stripped["oauth_config"].pop("redirect_urls", None)
    stripped["settings"]["event_subscriptions"].pop("request_url", None)
    stripped["settings"]["interactivity"].pop("request_url", None)
    stripped["settings"]["socket_mode_enabled"] = True
    assert isinstance(stripped, dict)
    return stripped


def test_the_socket_mode_manifest_is_the_manifest_without_a_public_address() -> None:
    """The same scopes, commands, shortcuts and events as manifest.yaml, Socket Mode on, and no request URL at all."""
    socket_mode = yaml.safe_load(SOCKET_MODE_MANIFEST.read_text(encoding="utf-8"))
    assert socket_mode["settings"]["socket_mode_enabled"] is True
    assert "YOUR-SERVER" not in SOCKET_MODE_MANIFEST.read_text(encoding="utf-8")
    assert socket_mode == without_addresses(manifest())
