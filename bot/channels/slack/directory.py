"""Slack user ids from staff email addresses (users.lookupByEmail), for `safeguard directory sync-slack`."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from bot.channels.slack.outbox import describe
from bot.channels.slack.posting import SEND_ERRORS, web_client

# slack_sdk's own default: a look-up waits this long for Slack.
DIRECTORY_TIMEOUT_SECONDS = 30.0
# What Slack answers for an address with no account in the workspace (or a deactivated one).
NOT_FOUND = {"users_not_found", "user_not_found"}
HINTS = {
    "invalid_auth": "the token was refused; check SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-...)",
    "not_authed": "no token was sent; set SLACK_BOT_TOKEN",
    "account_inactive": "the token belongs to a deleted app or user; reinstall the app and use its new token",
    "missing_scope": "the app lacks the users:read.email scope; add it (manifest/slack/manifest.yaml has it) "
                     "and reinstall the app",
}


class DirectoryError(RuntimeError):
    """Slack could not be asked at all (a bad token, a missing scope, no network)."""


async def slack_ids(token: str, api_url: str, emails: Iterable[str]) -> dict[str, str | None]:
    """Each email's Slack user id, or None where the workspace has no such person."""
    # A school's staff list can outrun the method's rate limit: wait as Slack asks, then go on.
    client = web_client(token, api_url, timeout=DIRECTORY_TIMEOUT_SECONDS, rate_limit_retries=3)
    found: dict[str, str | None] = {}
    for email in emails:
        try:
            answer = await client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in NOT_FOUND:
                found[email] = None
                continue
            raise DirectoryError(f"Slack said {error or 'no'}: {HINTS.get(error, 'see the Slack API docs')}") from None
        except SEND_ERRORS as exc:
            raise DirectoryError(f"could not reach Slack: {describe(exc)}") from None
        found[email] = str(answer["user"]["id"])
    return found
