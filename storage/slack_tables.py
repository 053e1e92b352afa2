"""slack_sdk's own tables for Slack installations and OAuth states, as its SQLAlchemy stores define them.

A trust whose schools each have a Slack workspace installs the app in each; slack_sdk's
installation store keeps every workspace's bot token, and its state store the OAuth `state`
of an install under way. Their tables are built here by slack_sdk's own builders, so the
migration creates exactly what those stores read and write, in our database.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

BOTS = AsyncSQLAlchemyInstallationStore.default_bots_table_name
INSTALLATIONS = AsyncSQLAlchemyInstallationStore.default_installations_table_name
OAUTH_STATES = AsyncSQLAlchemyOAuthStateStore.default_table_name


def slack_metadata() -> MetaData:
    """The three tables (slack_bots, slack_installations, slack_oauth_states), on a MetaData of their own."""
    metadata = MetaData()
    AsyncSQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS)
    AsyncSQLAlchemyInstallationStore.build_bots_table(metadata, BOTS)
    AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES)
    return metadata


def with_slack_tables(models: MetaData) -> MetaData:
    """Our models' tables and slack_sdk's, on one MetaData with our naming convention (what the migrations build)."""
    combined = MetaData(naming_convention=models.naming_convention)
    for table in [*models.tables.values(), *slack_metadata().tables.values()]:
        table.to_metadata(combined)
    return combined
