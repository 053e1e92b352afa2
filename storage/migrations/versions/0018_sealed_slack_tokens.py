"""Slack tokens encrypted at rest: the token columns of slack_sdk's installation tables become Text.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

Each workspace's bot token is stored encrypted under the deployment's key (a Fernet token, up
to about three times as long as the token), so the columns outgrow slack_sdk's 200 characters.
Tokens stored in plain text before this are encrypted at the next start, with everything else
stored before encryption at rest (storage/rotation.py `unlock`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENS = {"slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
          "slack_bots": ("bot_token", "bot_refresh_token")}


def upgrade() -> None:
    """Widen every token column to Text."""
    for table, columns in TOKENS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(200), existing_nullable=True)


def downgrade() -> None:
    """Back to slack_sdk's 200 characters; an encrypted token longer than that fails on PostgreSQL, so
    a deployment going back first installs the app again (or empties the two tables)."""
    for table, columns in TOKENS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.String(200), existing_type=sa.Text(), existing_nullable=True)
