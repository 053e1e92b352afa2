"""Teams settings, read once from the environment at start-up and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routing.yamlfields import InputError

# The Azure Bot resource's "Type of App", as the Azure portal names them.
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
# How often the server looks for Teams alerts still to send (one queued by a restart, or a failed send).
OUTBOX_SECONDS = 10.0


@dataclass(frozen=True)
class TeamsSettings:
    """The bot's Microsoft identity; with no app id, the Bot Framework's anonymous local mode."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    tenant_id: str = ""
    outbox_seconds: float = OUTBOX_SECONDS
    # How long one send to the Bot Connector may take before it counts as failed (and is tried again).
    send_timeout: float = 10.0

    @property
    def anonymous(self) -> bool:
        """Whether requests go unauthenticated (the Bot Framework Emulator's mode, for a developer's machine)."""
        return not self.app_id

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings:
        """Settings from MICROSOFT_APP_* variables, checked; an InputError names the first one that is wrong."""
        kind = env.get("MICROSOFT_APP_TYPE", "").strip() or "MultiTenant"
        settings = cls(
            app_id=env.get("MICROSOFT_APP_ID", "").strip(),
            app_password=env.get("MICROSOFT_APP_PASSWORD", "").strip(),
            app_type=APP_TYPES.get(kind.lower(), kind),
            tenant_id=env.get("MICROSOFT_APP_TENANT_ID", "").strip(),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings botbuilder would only reject on the first message (with a 500)."""
        if self.app_type not in APP_TYPES.values():
            raise InputError(f"MICROSOFT_APP_TYPE {self.app_type!r}: use MultiTenant, SingleTenant or UserAssignedMSI "
                             "(the Azure Bot resource's Type of App)")
        if self.anonymous:
            if self.app_password:
                raise InputError("MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is empty: set both (from the "
                                 "Azure Bot resource), or neither for the Bot Framework Emulator")
            return
        if self.app_type == "UserAssignedMSI":
            if self.app_password:
                raise InputError("MICROSOFT_APP_PASSWORD must be empty for a UserAssignedMSI bot: "
                                 "the managed identity signs in without one")
        elif not self.app_password:
            raise InputError("MICROSOFT_APP_PASSWORD is empty: create a client secret for the bot's app registration "
                             "(Azure Bot resource > Configuration > Manage Password)")
        if self.app_type != "MultiTenant" and not self.tenant_id:
            raise InputError(f"MICROSOFT_APP_TENANT_ID is empty: a {self.app_type} bot needs its Microsoft Entra "
                             "tenant id (Azure Bot resource > Configuration > App Tenant ID)")

    def bot_config(self) -> object:
        """The configuration object botbuilder's ConfigurationBotFrameworkAuthentication reads."""
        return _BotConfig(self.app_id, self.app_password, self.app_type, self.tenant_id)


@dataclass(frozen=True)
class _BotConfig:
    # botbuilder reads these attribute names (APP_ID, APP_PASSWORD, APP_TYPE, APP_TENANTID).
    APP_ID: str
    APP_PASSWORD: str = field(repr=False)
    APP_TYPE: str
    APP_TENANTID: str
