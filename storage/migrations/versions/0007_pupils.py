"""Pupils (from the school's roster, or as typed in a report) and the reports that name them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Names, MIS ids and year groups are encrypted at rest (the columns hold Fernet tokens as text).
Existing reports name no pupil: they keep their details as they were and link to nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `pupils` and `report_pupils`."""
    op.create_table(
        "pupils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("mis_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("year", sa.Text(), nullable=False),
        sa.Column("on_roster", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('roster', 'typed')", name=op.f("ck_pupils_source_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupils")),
    )
    op.create_index(op.f("ix_pupils_school_source"), "pupils", ["school", "source"])
    op.create_table(
        "report_pupils",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_pupils_report_id_reports")),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"], ondelete="CASCADE",
                                name=op.f("fk_report_pupils_pupil_id_pupils")),
        sa.PrimaryKeyConstraint("report_id", "pupil_id", "role", name=op.f("pk_report_pupils")),
    )
    op.create_index(op.f("ix_report_pupils_pupil_id"), "report_pupils", ["pupil_id"])


def downgrade() -> None:
    """Back to 0006: the pupils and their links go (the reports' details still say who)."""
    op.drop_table("report_pupils")
    op.drop_table("pupils")
