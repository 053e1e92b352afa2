"""Approval requests: a request passing through approval steps (a blocked site to unblock).

Revision ID: 0017
Revises: 0011 (re-chained at merge)
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create approval_requests (answers and reasons encrypted at rest, as Fernet tokens)."""
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(24), nullable=False),
        sa.Column("school", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("requester", sa.String(100), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=True),
        _at("created_at", nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(100), nullable=True),
        sa.Column("approver_role", sa.String(60), nullable=True),
        sa.Column("approvers", sa.JSON(), nullable=False),
        _at("due_at"),
        sa.Column("reminders", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _at("decided_at"),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        _at("done_at"),
        sa.Column("done_by", sa.String(100), nullable=True),
        sa.CheckConstraint("status IN ('open', 'approved', 'refused')", name=op.f("ck_approval_requests_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
        sa.UniqueConstraint("reference", name=op.f("uq_approval_requests_reference")),
    )
    for column in ("requester", "created_at", "approver", "due_at"):
        op.create_index(op.f(f"ix_approval_requests_{column}"), "approval_requests", [column])


def downgrade() -> None:
    """Drop approval_requests: every request and its words go (the log keeps their events)."""
    op.drop_table("approval_requests")
