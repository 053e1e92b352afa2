"""Escalation and the weekly digest: deadlines and LADO clocks on reports, reminder rounds, digests.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = "uq_alert_deliveries_report_id_person_id_channel_kind"
NEW_UNIQUE = "uq_alert_deliveries_report_id_person_id_channel_kind_round"


def upgrade() -> None:
    """Add the columns and the digest table.

    Reports routed before this revision get their next escalation at their deadline, if they
    are still unacknowledged, so the scheduler picks them up on first start.
    """
    # Plain ALTERs, not batch mode: batch copies and drops `reports`, and with SQLite's foreign
    # keys on, dropping it would cascade to every row that refers to a report.
    op.add_column("reports", sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reports", sa.Column("escalation_step", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("reports", sa.Column("lado_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reports", sa.Column("lado_reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reports", sa.Column("lado_consulted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reports", sa.Column("lado_consulted_by", sa.String(100), nullable=True))
    op.create_index(op.f("ix_reports_next_escalation_at"), "reports", ["next_escalation_at"])
    op.create_index(op.f("ix_reports_lado_due_at"), "reports", ["lado_due_at"])
    op.create_index(op.f("ix_reports_created_at"), "reports", ["created_at"])
    op.execute(
        "UPDATE reports SET next_escalation_at = ack_deadline "
        "WHERE acknowledged_at IS NULL AND status = 'open' AND ack_deadline IS NOT NULL"
    )
    # SQLite cannot alter a constraint in place: batch mode copies the table, rows and all.
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(NEW_UNIQUE, ["report_id", "person_id", "channel", "kind", "round"])
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.alter_column("round", server_default=None)
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(200), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("chart", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name=op.f("ck_digest_deliveries_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
        sa.UniqueConstraint("school", "week", "person_id", name=op.f("uq_digest_deliveries_school_week_person_id")),
    )
    op.create_index(op.f("ix_digest_deliveries_status"), "digest_deliveries", ["status"])


def downgrade() -> None:
    """Back to 0003 (digests and reminder rounds are dropped)."""
    op.drop_table("digest_deliveries")
    op.execute("DELETE FROM alert_deliveries WHERE kind NOT IN ('alert', 'acknowledged') OR round <> 0")
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(OLD_UNIQUE, ["report_id", "person_id", "channel", "kind"])
        batch.drop_column("claimed_until")
        batch.drop_column("round")
    op.drop_index(op.f("ix_reports_created_at"), "reports")
    op.drop_index(op.f("ix_reports_lado_due_at"), "reports")
    op.drop_index(op.f("ix_reports_next_escalation_at"), "reports")
    with op.batch_alter_table("reports") as batch:
        for column in ("lado_consulted_by", "lado_consulted_at", "lado_reminded_at", "lado_due_at",
                       "escalation_step", "next_escalation_at"):
            batch.drop_column(column)
