"""Conversation references: where each person's chat with the bot is, so Teams alerts can be sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the conversation_refs table."""
    op.create_table(
        "conversation_refs",
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "person_id", name=op.f("pk_conversation_refs")),
    )


def downgrade() -> None:
    """Back to 0002 (people must message the bot again before Teams alerts reach them)."""
    op.drop_table("conversation_refs")
