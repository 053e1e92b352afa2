"""What `safeguard doctor` asks Slack: whether the token works, the scopes it was granted, and who each Slack id is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.channels.slack.directory import HINTS
from bot.channels.slack.outbox import describe
from bot.channels.slack.posting import SEND_ERRORS, web_client

# Long enough for a slow proxy; short enough that an admin is not left waiting on a dead network.
DOCTOR_TIMEOUT_SECONDS = 10.0
NOT_FOUND = {"user_not_found", "users_not_found"}


@dataclass(frozen=True)
class Identity:
    """Who the token is: the workspace and the bot user, and the scopes Slack says it was granted."""

    team_id: str
    team: str
    bot_user: str
    scopes: frozenset[str] | None  # None: Slack sent no x-oauth-scopes header


@dataclass(frozen=True)
class Refused:
    """Slack could not be asked, or said no: in a few words, with what to do about it."""

    reason: str
    fix: str


@dataclass
class Members:
    """What users.info said of each Slack id: nothing wrong, or what is (not found, deactivated, a bot)."""

    found: list[str] = field(default_factory=list)
    wrong: dict[str, str] = field(default_factory=dict)


async def identity(token: str, api_url: str) -> Identity | Refused:
    """auth.test with the token, and the scopes its answer's x-oauth-scopes header lists."""
    client = web_client(token, api_url, timeout=DOCTOR_TIMEOUT_SECONDS)
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        return _refused(exc)
    except SEND_ERRORS as exc:
        return Refused(f"could not reach Slack at {api_url}: {describe(exc)}",
                       "check this machine reaches Slack (a firewall or proxy), and SLACK_API_URL if it is set")
    header = _header(answer.headers, "x-oauth-scopes")
    scopes = None if header is None else frozenset(s.strip() for s in header.split(",") if s.strip())
    return Identity(str(answer.get("team_id", "")), str(answer.get("team", "")), str(answer.get("user_id", "")), scopes)


async def members(token: str, api_url: str, slack_ids: Iterable[str]) -> Members | Refused:
    """users.info for each id: whether it is a person of this workspace, still active, and not a bot."""
    client = web_client(token, api_url, timeout=DOCTOR_TIMEOUT_SECONDS, rate_limit_retries=3)
    result = Members()
    for slack_id in slack_ids:
        try:
            answer = await client.users_info(user=slack_id)
        except SlackApiError as exc:
            if str(exc.response.get("error", "")) in NOT_FOUND:
                result.wrong[slack_id] = "not a member of this workspace"
                continue
            return _refused(exc)
        except SEND_ERRORS as exc:
            return Refused(f"could not reach Slack at {api_url}: {describe(exc)}",
                           "check this machine reaches Slack, then run `safeguard doctor` again")
        user: dict[str, Any] = answer.get("user") or {}
        if user.get("deleted"):
            result.wrong[slack_id] = "deactivated in Slack"
        elif user.get("is_bot") or user.get("is_app_user"):
            result.wrong[slack_id] = "a bot, not a person"
        else:
            result.found.append(slack_id)
    return result


def _refused(exc: SlackApiError) -> Refused:
    error = str(exc.response.get("error", "")) or "no"
    if error == "missing_scope":
        needed = exc.response.get("needed")
        return Refused(f"Slack said missing_scope{f' (needs {needed})' if needed else ''}",
                       "add the scopes of manifest/slack/manifest.yaml under OAuth & Permissions, reinstall the "
                       "app, and use its new token")
    return Refused(f"Slack said {error}", HINTS.get(error, "see Slack's documentation of that error"))


def _header(headers: Any, name: str) -> str | None:
    """A response header, whatever its case (aiohttp's headers ignore case; a plain dict does not)."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None
