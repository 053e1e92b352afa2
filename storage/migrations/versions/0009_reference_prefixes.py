"""Reference counters per prefix and year: each school of a trust numbers its own (SG-BPA-2026-0001).

Revision ID: 0009
Revises: 0008 (re-chained at merge)
Create Date: 2026-12-03

Existing counters were a lone school's, so they keep counting under "SG": the next report of
2026 after SG-2026-0041 is still SG-2026-0042. The primary key becomes (prefix, year); SQLite
changes a primary key by copying the table (batch mode), which is safe here since no row refers
to a counter.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add report_counters.prefix ("SG" for the counts so far) and key the counters by prefix and year."""
    op.add_column("report_counters", sa.Column("prefix", sa.String(12), server_default="SG", nullable=False))
    with op.batch_alter_table("report_counters") as batch:
        batch.alter_column("prefix", existing_type=sa.String(12), server_default=None, existing_nullable=False)
        batch.drop_constraint("pk_report_counters", type_="primary")
        batch.create_primary_key("pk_report_counters", ["prefix", "year"])


def downgrade() -> None:
    """Back to one counter a year: only the lone school's ("SG") counts can stay."""
    op.execute("DELETE FROM report_counters WHERE prefix <> 'SG'")
    with op.batch_alter_table("report_counters") as batch:
        batch.drop_constraint("pk_report_counters", type_="primary")
        batch.create_primary_key("pk_report_counters", ["year"])
        batch.drop_column("prefix")
