"""Notes and recorded actions, notices to reporters, the reporter's channel, and escalation marks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = "uq_alert_deliveries_report_id_person_id_channel"
NEW_UNIQUE = "uq_alert_deliveries_report_id_person_id_channel_kind"


def upgrade() -> None:
    """Add the columns and the notes table; alerts already queued are of kind `alert`."""
    op.add_column("reports", sa.Column("channel", sa.String(20), nullable=True))
    op.add_column("recipients", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    # SQLite cannot alter a constraint in place: batch mode copies the table, rows and all.
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="alert"))
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(NEW_UNIQUE, ["report_id", "person_id", "channel", "kind"])
    with op.batch_alter_table("alert_deliveries") as batch:
        # The default only filled existing rows; new rows always say what they are.
        batch.alter_column("kind", server_default=None)
    op.create_table(
        "report_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('note', 'action')", name=op.f("ck_report_notes_kind_known")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], ondelete="CASCADE", name=op.f("fk_report_notes_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_notes")),
    )
    op.create_index(op.f("ix_report_notes_report_id"), "report_notes", ["report_id"])


def downgrade() -> None:
    """Back to 0001 (notices to reporters and notes are dropped)."""
    op.drop_table("report_notes")
    op.execute("DELETE FROM alert_deliveries WHERE kind <> 'alert'")
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(OLD_UNIQUE, ["report_id", "person_id", "channel"])
        batch.drop_column("kind")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("escalated_at")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("channel")
