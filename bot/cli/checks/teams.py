"""The Teams settings: app id and password both or neither, the app type and tenant, as the server reads them."""

from __future__ import annotations

from collections.abc import Mapping

from bot.channels.teams.settings import TeamsSettings
from bot.cli.checks.rows import Row, ok, problem, skipped
from routing.trust import Trust
from routing.yamlfields import InputError


def teams_row(env: Mapping[str, str], deployment: Trust | None) -> Row:
    """Whether `safeguard serve` would take these MICROSOFT_APP_* settings, and they reach the config's Teams people."""
    try:
        settings = TeamsSettings.from_env(env)
    except InputError as exc:
        return problem("teams", str(exc), "correct the MICROSOFT_APP_* settings from the Azure Bot resource")
    schools = deployment.schools if deployment is not None else ()
    on_teams = sum(1 for school in schools for person in school.people if person.teams)
    if settings.anonymous:
        if on_teams:
            return problem("teams", f"{on_teams} person(s) have a Teams id but MICROSOFT_APP_ID is empty: the bot "
                                    "runs in the Bot Framework Emulator's local mode, which Teams cannot reach",
                           "set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD from the Azure Bot resource")
        return skipped("teams", "not used: MICROSOFT_APP_ID is empty and nobody has a Teams id")
    if settings.app_type == "SingleTenant":
        # A single-tenant bot registration answers only its own tenant's users.
        elsewhere = sorted(s.key for s in schools if s.teams_tenant and s.teams_tenant.lower() != settings.tenant_id.lower())
        if elsewhere:
            return problem("teams", f"a SingleTenant bot serves only tenant {settings.tenant_id}, but "
                                    f"{', '.join(elsewhere)} name(s) another teams_tenant",
                           "make the bot MultiTenant (MICROSOFT_APP_TYPE and the Azure Bot resource), or correct "
                           "the schools' teams_tenant")
    tenant = f", tenant {settings.tenant_id}" if settings.tenant_id else ""
    if not on_teams:
        return problem("teams", f"app {settings.app_id} ({settings.app_type}{tenant}) is set but nobody in the "
                                "config has a Teams id", "add `teams:` ids to the people in the config")
    return ok("teams", f"app {settings.app_id} ({settings.app_type}{tenant}); {on_teams} person(s) have a Teams id")
