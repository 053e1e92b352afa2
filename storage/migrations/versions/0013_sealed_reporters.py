"""Sealed reporters: the link from an anonymous report's handle to its reporter, under the relay key.

Revision ID: 0013
Revises: 0011 (re-chained at merge)
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create sealed_reporters (one row per report sent without a name; gone with its report)."""
    op.create_table(
        "sealed_reporters",
        sa.Column("handle", sa.String(100), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], name=op.f("fk_sealed_reporters_report_id_reports"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("handle", name=op.f("pk_sealed_reporters")),
        sa.UniqueConstraint("report_id", name=op.f("uq_sealed_reporters_report_id")),
    )


def downgrade() -> None:
    """Drop sealed_reporters: the reporters of reports sent without a name can no longer be told anything."""
    op.drop_table("sealed_reporters")
