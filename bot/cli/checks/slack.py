"""The Slack rows: the settings, the token (auth.test), its scopes against the manifest's, and each person's Slack id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.cli.checks.rows import Row, Status, ok, problem, skipped
from routing.trust import Trust

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
ROWS = ("slack settings", "slack token", "slack scopes", "slack people")


@dataclass(frozen=True)
class SlackEnv:
    """The Slack settings as `safeguard serve` reads them from the environment."""

    bot_token: str
    signing_secret: str
    app_token: str  # SLACK_APP_TOKEN: Socket Mode, instead of a public URL and the signing secret
    client_id: str
    client_secret: str
    api_url: str

    @classmethod
    def read(cls, env: Mapping[str, str]) -> SlackEnv:
        def get(name: str) -> str:
            return env.get(name, "").strip()

        return cls(get("SLACK_BOT_TOKEN"), get("SLACK_SIGNING_SECRET"), get("SLACK_APP_TOKEN"), get("SLACK_CLIENT_ID"),
                   get("SLACK_CLIENT_SECRET"), get("SLACK_API_URL") or DEFAULT_SLACK_API_URL)


async def slack_rows(env: Mapping[str, str], deployment: Trust | None) -> list[Row]:
    """The four Slack rows; each after the first is skipped while one before it is a problem."""
    settings = SlackEnv.read(env)
    people = _slack_ids(deployment)
    first = _settings_row(settings, len(people))
    if first.status is not Status.OK:
        why = "Slack is not used" if first.status is Status.SKIPPED else "not checked until the Slack settings are fixed"
        return [first, *(skipped(name, why) for name in ROWS[1:])]
    if settings.client_id:
        # One app installed in several workspaces: each workspace's token comes from its install.
        return [first, *(skipped(name, "one app in several workspaces (SLACK_CLIENT_ID): each install's token is "
                                       "checked by Slack when it is made; not checked here") for name in ROWS[1:])]
    # Imported here: only this check needs the Slack SDK loaded.
    from bot.channels.slack.doctor import Identity, Refused, identity, members
    from bot.channels.slack.manifest import ManifestError, bot_scopes

    who = await identity(settings.bot_token, settings.api_url)
    if isinstance(who, Refused):
        return [first, problem("slack token", f"auth.test: {who.reason}", who.fix),
                *(skipped(name, "not checked until the token works") for name in ROWS[2:])]
    assert isinstance(who, Identity)
    rows = [first, ok("slack token", f"auth.test: workspace {who.team_id}, bot user {who.bot_user}")]
    try:
        needed = bot_scopes()
    except ManifestError as exc:
        rows.append(problem("slack scopes", str(exc), "run `safeguard doctor` from a full copy of Safeguard"))
    else:
        rows.append(_scopes_row(needed, who.scopes))
    if not people:
        rows.append(skipped("slack people", "nobody in the config has a Slack id" if deployment is not None
                            else "not checked until the config loads"))
        return rows
    found = await members(settings.bot_token, settings.api_url, people)
    if isinstance(found, Refused):
        rows.append(problem("slack people", f"users.info: {found.reason}", found.fix))
        return rows
    if found.wrong:
        wrong = "; ".join(f"{', '.join(people[slack_id])}: {slack_id}: {why}" for slack_id, why in found.wrong.items())
        rows.append(problem("slack people", f"{len(found.found)} of {len(people)} Slack id(s) are people of the "
                                            f"workspace; {wrong}",
                            "correct the `slack:` id in the config (Slack profile > ... > Copy member ID), or "
                            "remove it for someone who left; `safeguard directory sync-slack` finds ids by email"))
    else:
        rows.append(ok("slack people", f"all {len(people)} Slack id(s) in the config are active people of "
                                       f"workspace {who.team_id}"))
    return rows


def _slack_ids(deployment: Trust | None) -> dict[str, list[str]]:
    """Each Slack id in the config, with the config ids of whoever has it (checked once however many schools list them)."""
    found: dict[str, list[str]] = {}
    schools = deployment.schools if deployment is not None else ()
    for person in (p for school in schools for p in school.everyone):
        if person.slack and person.id not in found.setdefault(person.slack, []):
            found[person.slack].append(person.id)
    return found


def _settings_row(settings: SlackEnv, people: int) -> Row:
    if not settings.bot_token and not settings.client_id:
        if people:
            return problem("slack settings", f"{people} Slack id(s) in the config, but SLACK_BOT_TOKEN is not set: "
                                             "nobody is reached on Slack",
                           "set SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-..., on your Slack app's OAuth & "
                           "Permissions page)")
        return skipped("slack settings", "not used: SLACK_BOT_TOKEN is not set and nobody has a Slack id")
    if settings.bot_token and not settings.bot_token.startswith("xoxb-"):
        return problem("slack settings", "SLACK_BOT_TOKEN is not a bot token (it starts with xoxb-)",
                       "copy the Bot User OAuth Token from your Slack app's OAuth & Permissions page")
    if bool(settings.client_id) != bool(settings.client_secret):
        given, lacking = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET") if settings.client_id else \
            ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
        return problem("slack settings", f"{given} is set but {lacking} is empty",
                       "copy both from your Slack app's Basic Information page (App Credentials), or unset "
                       f"{given} to use one workspace's SLACK_BOT_TOKEN")
    if settings.app_token and not settings.app_token.startswith("xapp-"):
        return problem("slack settings", "SLACK_APP_TOKEN is not an app-level token (it starts with xapp-)",
                       "generate an app-level token with the connections:write scope (Basic Information > "
                       "App-Level Tokens)")
    if not settings.signing_secret and not settings.app_token:
        return problem("slack settings", "neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set: Slack's "
                                         "requests cannot be checked or received",
                       "copy the Signing Secret from your Slack app's Basic Information page, or set "
                       "SLACK_APP_TOKEN to connect over Socket Mode")
    how = "Socket Mode (SLACK_APP_TOKEN)" if settings.app_token else "HTTP events, signed (SLACK_SIGNING_SECRET)"
    token = "SLACK_CLIENT_ID (one app, several workspaces)" if settings.client_id else "SLACK_BOT_TOKEN"
    return ok("slack settings", f"{token}; {how}")


def _scopes_row(needed: frozenset[str], granted: frozenset[str] | None) -> Row:
    if granted is None:
        return problem("slack scopes", "Slack's answer to auth.test did not list the token's scopes "
                                       "(no x-oauth-scopes header)",
                       "check SLACK_API_URL points at Slack's Web API itself (a proxy may drop the header)")
    missing = sorted(needed - granted)
    if missing:
        return problem("slack scopes", f"the token lacks {', '.join(missing)} (of the {len(needed)} the app needs)",
                       "add them under OAuth & Permissions > Bot Token Scopes (manifest/slack/manifest.yaml lists "
                       "them all), reinstall the app to the workspace, and use the new token")
    return ok("slack scopes", f"all {len(needed)} scopes the app needs are granted")
