"""Screenshots sent with a report: kept encrypted with the draft until Send, then with the report.

Revision ID: 0008
Revises: 0007 (re-chained at merge)
Create Date: 2026-12-03

Existing reports get no screenshots (`screenshots` 0). The column is added in place (SQLite adds
a column without copying the table; a copy would cascade-delete every row that refers to it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _screenshot_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),  # a Fernet token (storage.encrypted.EncryptedBytes)
    ]


def upgrade() -> None:
    """Add reports.screenshots, draft_evidence (cascading from drafts) and report_evidence (from reports)."""
    op.add_column("reports", sa.Column("screenshots", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.create_table(
        "draft_evidence",
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        *_screenshot_columns(),
        sa.ForeignKeyConstraint(["channel", "user_id"], ["drafts.channel", "drafts.user_id"], ondelete="CASCADE",
                                name=op.f("fk_draft_evidence_channel_drafts")),
        sa.PrimaryKeyConstraint("channel", "user_id", "position", name=op.f("pk_draft_evidence")),
    )
    op.create_table(
        "report_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        *_screenshot_columns(),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_evidence_report_id_reports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_evidence")),
        sa.UniqueConstraint("report_id", "position", name=op.f("uq_report_evidence_report_id_position")),
    )
    op.create_index(op.f("ix_report_evidence_report_id"), "report_evidence", ["report_id"])


def downgrade() -> None:
    """Back: the screenshots go (batch mode for the column, as SQLite drops a column by copying the table)."""
    op.drop_index(op.f("ix_report_evidence_report_id"), table_name="report_evidence")
    op.drop_table("report_evidence")
    op.drop_table("draft_evidence")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("screenshots")
