"""Delivery that survives faults: back-off times, messages given up on, and notices about them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('queued', 'sent', 'failed')"
NEW_STATUSES = "status IN ('queued', 'sent', 'failed', 'undeliverable')"
TABLES = ("alert_deliveries", "digest_deliveries")


def upgrade() -> None:
    """Add `next_attempt_at` to both outboxes, the `undeliverable` status, and `detail` to notices.

    Batch mode copies these tables (SQLite cannot change a CHECK constraint in place); nothing
    refers to an outbox row, so the copy cascades nowhere.
    """
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
            batch.drop_constraint(op.f(f"ck_{table}_status_known"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_status_known"), NEW_STATUSES)
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
        batch.alter_column("report_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Back to 0004: messages given up on are failed again (and retried), and notices about no report go."""
    op.execute("DELETE FROM alert_deliveries WHERE report_id IS NULL OR kind IN ('receipt', 'undelivered')")
    for table in TABLES:
        op.execute(f"UPDATE {table} SET status = 'failed' WHERE status = 'undeliverable'")
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.alter_column("report_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("detail")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_status_known"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_status_known"), OLD_STATUSES)
            batch.drop_column("next_attempt_at")
