"""Who is being bullied, for cyberbullying reports: routing differs for a pupil, staff and the school.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Existing reports keep their categories and get no target (they are not cyberbullying reports);
categories are plain text without a CHECK constraint, so the new category needs no change there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable `target` column to reports."""
    op.add_column("reports", sa.Column("target", sa.String(20), nullable=True))


def downgrade() -> None:
    """Back to 0005: the column goes (batch mode, as SQLite drops a column by copying the table)."""
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("target")
