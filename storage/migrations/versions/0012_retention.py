"""Retention: when a report's words were erased, its hand-off to a record kept elsewhere, and legal holds.

Revision ID: 0012
Revises: 0011 (re-chained at merge)
Create Date: 2026-12-04

The columns are added in place (SQLite adds a nullable column without copying the table; a copy
would cascade-delete every row that refers to reports). Existing reports are neither handed on
nor erased.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = ("handed_on_at", "handed_on_by", "handed_on_to", "erased_at")


def upgrade() -> None:
    """Add reports.handed_on_at/_by/_to and reports.erased_at, and the report_holds table."""
    op.add_column("reports", sa.Column("handed_on_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reports", sa.Column("handed_on_by", sa.String(100), nullable=True))
    op.add_column("reports", sa.Column("handed_on_to", sa.Text(), nullable=True))  # a Fernet token
    op.add_column("reports", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "report_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),  # a Fernet token (storage.encrypted.EncryptedText)
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(100), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_holds_report_id_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_holds")),
    )
    op.create_index(op.f("ix_report_holds_report_id"), "report_holds", ["report_id"])


def downgrade() -> None:
    """Back: holds and hand-offs are forgotten (the log keeps them); erased reports stay erased."""
    op.drop_index(op.f("ix_report_holds_report_id"), table_name="report_holds")
    op.drop_table("report_holds")
    with op.batch_alter_table("reports") as batch:
        for name in REPORT_COLUMNS:
            batch.drop_column(name)
