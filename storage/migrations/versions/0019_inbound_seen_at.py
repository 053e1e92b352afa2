"""When each inbound event id came, so the ids can be forgotten once no retry of them can come.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

Slack retries an event for about an hour and Teams resends an activity within minutes, but
every id was kept for ever: a table growing by every message staff ever typed. Ids already
stored are given the time of this migration, so none is forgotten before a day has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add inbound_events.seen_at (indexed), set to now for the ids already there."""
    op.add_column("inbound_events", sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_inbound_events_seen_at", "inbound_events", ["seen_at"])
    inbound = sa.table("inbound_events", sa.column("seen_at", UTCDateTime()))
    op.execute(inbound.update().values(seen_at=datetime.now(UTC)))


def downgrade() -> None:
    """Drop seen_at: the ids are kept for ever again."""
    op.drop_index("ix_inbound_events_seen_at", table_name="inbound_events")
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("seen_at")
