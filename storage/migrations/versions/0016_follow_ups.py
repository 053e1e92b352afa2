"""Follow-up in chat: questions to the reporter, their answers, and what a reporter adds later.

Revision ID: 0016
Revises: 0011 (re-chained at merge)
Create Date: 2026-12-04

They are notes of three new kinds, so report_notes' CHECK on `kind` grows, and an answer
names the question it answers in `answers` (unique: a question is answered once).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('note', 'action')"
NEW_KINDS = "kind IN ('note', 'action', 'question', 'answer', 'addition')"


def upgrade() -> None:
    """The new note kinds, and `answers` with its unique constraint (batch mode: SQLite copies the table)."""
    with op.batch_alter_table("report_notes") as batch:
        batch.add_column(sa.Column("answers", sa.Integer(), nullable=True))
        batch.create_unique_constraint(op.f("uq_report_notes_answers"), ["answers"])
        batch.drop_constraint(op.f("ck_report_notes_kind_known"), type_="check")
        batch.create_check_constraint(op.f("ck_report_notes_kind_known"), NEW_KINDS)


def downgrade() -> None:
    """Back to 0011: questions, answers and additions go, with their notices (their events stay in the log)."""
    op.execute("DELETE FROM report_notes WHERE kind IN ('question', 'answer', 'addition')")
    op.execute("DELETE FROM alert_deliveries WHERE kind IN ('question', 'answer', 'addition')")
    with op.batch_alter_table("report_notes") as batch:
        batch.drop_constraint(op.f("ck_report_notes_kind_known"), type_="check")
        batch.create_check_constraint(op.f("ck_report_notes_kind_known"), OLD_KINDS)
        batch.drop_constraint(op.f("uq_report_notes_answers"), type_="unique")
        batch.drop_column("answers")
