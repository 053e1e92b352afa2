"""The tables of slack_sdk's SQLAlchemy installation store and OAuth state store, as slack_sdk 3.48 defines them.

A trust whose schools each have a Slack workspace installs the app in each; slack_sdk's own
installation store (bot/channels/slack/install.py) keeps every workspace's bot token in these
tables, and its state store the OAuth `state` of an install under way. They are written out here,
column for column as slack_sdk's `build_installations_table`, `build_bots_table` and
`build_oauth_states_table` make them, because storage does not import a chat SDK (replacing one
touches its channel's folder alone); tests/integration/test_migrations.py holds the two together,
so a slack_sdk that changes its tables fails the suite until a migration follows it.

One change of ours: the token columns hold each token encrypted under the deployment's key
(bot/channels/slack/install.py `SealedInstallationStore`), as Fernet tokens, which outgrow
slack_sdk's 200 characters; migration 0018 makes them Text. A copied database or a stolen
backup then gives no workspace's bot token away, as it gives no report's words away.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, func
from sqlalchemy.types import TypeEngine

BOTS = "slack_bots"
INSTALLATIONS = "slack_installations"
OAUTH_STATES = "slack_oauth_states"


# The columns that hold a token (encrypted), in either table that has them.
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _bot_columns(token: TypeEngine[str]) -> list[Column[object]]:
    """The bot's token and who the bot is (in both tables); refresh token and expiry only with token rotation."""
    return [
        Column("bot_token", token),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", token),
        Column("bot_token_expires_at", DateTime),
    ]


def slack_metadata(*, sealed: bool = True) -> MetaData:
    """The three tables (slack_installations, slack_bots, slack_oauth_states), on a MetaData of their own.

    `sealed`: token columns as Text, for encrypted tokens (migration 0018); else exactly as
    slack_sdk builds them (what migration 0011 created).
    """
    token: TypeEngine[str] = Text() if sealed else String(200)
    metadata = MetaData()
    Table(
        INSTALLATIONS, metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
        Column("enterprise_url", String(200)),
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        *_bot_columns(token),
        Column("user_id", String(32), nullable=False),
        Column("user_token", token),
        Column("user_scopes", String(1000)),
        Column("user_refresh_token", token),
        Column("user_token_expires_at", DateTime),
        Column("incoming_webhook_url", String(200)),
        Column("incoming_webhook_channel", String(200)),
        Column("incoming_webhook_channel_id", String(200)),
        Column("incoming_webhook_configuration_url", String(200)),
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("token_type", String(32)),
        Column("installed_at", DateTime, nullable=False, default=func.now()),
        Index(f"{INSTALLATIONS}_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
    )
    Table(
        BOTS, metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        *_bot_columns(token),
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
        Column("installed_at", DateTime, nullable=False, default=func.now()),
        Index(f"{BOTS}_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
    )
    Table(
        OAUTH_STATES, metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("state", String(200), nullable=False),
        Column("expire_at", DateTime, nullable=False),
    )
    return metadata


def with_slack_tables(models: MetaData) -> MetaData:
    """Our models' tables and slack_sdk's, on one MetaData with our naming convention (what the migrations build)."""
    combined = MetaData(naming_convention=models.naming_convention)
    for table in [*models.tables.values(), *slack_metadata().tables.values()]:
        table.to_metadata(combined)
    return combined
