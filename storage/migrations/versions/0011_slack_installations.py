"""Slack installations: slack_sdk's installation and OAuth state tables, for one app in several workspaces.

Revision ID: 0011
Revises: 0008 (re-chained at merge)
Create Date: 2026-12-03

The tables are slack_sdk's own, column for column (storage/slack_tables.py, held to slack_sdk's builders by a test), so its
SQLAlchemy installation store and OAuth state store read and write them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage.slack_tables import slack_metadata

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create slack_installations, slack_bots and slack_oauth_states (with slack_sdk's indexes)."""
    slack_metadata(sealed=False).create_all(op.get_bind())  # as slack_sdk built them then; 0018 widens the tokens


def downgrade() -> None:
    """Drop the three tables: every workspace would have to install the app again."""
    slack_metadata(sealed=False).drop_all(op.get_bind())
