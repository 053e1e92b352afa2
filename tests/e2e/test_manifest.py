"""The Slack manifest declares exactly what the code registers and the scopes of the methods it calls."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.app import CONSOLE, SLACK, App
from bot.demo import EXAMPLE_SCHOOL
from bot.slack import SlackChannel
from bot.slack.ids import EVENTS_PATH
from routing.school import load_school
from storage.db import create_engine, sessionmaker
from tests.builders import TEST_KEYS
from tests.e2e.fake_slack import ANSWERS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest" / "slack" / "manifest.yaml"
REQUEST_URL = f"https://YOUR-SERVER.example{EVENTS_PATH}"
# The bot scopes each Web API method needs (docs.slack.dev/reference/methods). A method the code
# starts calling must be added here, and its scopes to the manifest, or this test fails.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.open": {"im:write"},
    "conversations.history": {"im:history"},
    "views.open": set(),
    "views.update": set(),
    "views.publish": set(),
    "users.lookupByEmail": {"users:read", "users:read.email"},
}
EVENT_SCOPES: dict[str, set[str]] = {"message.im": {"im:history"}, "app_home_opened": set()}
CALL = re.compile(r"\.(auth|chat|conversations|views|users)_([A-Za-z]+)\(")


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def methods_called() -> set[str]:
    """The Web API methods bot/slack calls, read from its source (auth.test is bolt's own call)."""
    found = {"auth.test"}
    for path in (ROOT / "bot" / "slack").glob("*.py"):
        found |= {f"{group}.{name}" for group, name in CALL.findall(path.read_text(encoding="utf-8"))}
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
    assert set(data["oauth_config"]["scopes"]["bot"]) == needed


def test_the_fake_slack_answers_every_method_the_code_calls() -> None:
    assert methods_called() <= set(ANSWERS)
