"""One hash chain per school of a trust: events and the log head gain a `chain`.

Revision ID: 0010
Revises: 0008 (re-chained at merge)
Create Date: 2026-12-03

Every existing event, and the one head row, go in the default chain "" (the chain a lone
school keeps using), with their seq and hash unchanged, so an existing log still verifies.
Events are numbered within their chain, so their key becomes (chain, seq). SQLite changes a
key only by copying the table, which drops its triggers: they are made again, as 0001 made them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "the event log is append-only: {op} on events is refused"
DEFAULT_CHAIN = sa.text("''")


def _chain() -> sa.Column[str]:
    return sa.Column("chain", sa.String(8), server_default=DEFAULT_CHAIN, nullable=False)


def upgrade() -> None:
    """Add events.chain (key chain, seq) and key the log head by chain."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        with op.batch_alter_table("events", recreate="always") as batch:
            batch.add_column(_chain(), insert_before="seq")
            batch.drop_constraint(op.f("pk_events"), type_="primary")
            batch.create_primary_key(op.f("pk_events"), ["chain", "seq"])
        _refuse_sqlite_event_changes()
    else:
        # Adding a column with a default fires no row trigger, and the key is changed in place.
        op.add_column("events", _chain())
        op.drop_constraint(op.f("pk_events"), "events", type_="primary")
        op.create_primary_key(op.f("pk_events"), "events", ["chain", "seq"])
    heads = op.get_bind().execute(sa.text("SELECT seq, hash FROM log_head")).all()
    op.drop_table("log_head")
    head = op.create_table(
        "log_head",
        _chain(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_log_head")),
    )
    # A head row already deleted stays deleted: verify names that, and a new one would hide it.
    op.bulk_insert(head, [{"chain": "", "seq": seq, "hash": digest} for seq, digest in heads[:1]])


def _refuse_sqlite_event_changes() -> None:
    # The copy dropped the old table's triggers with it; the guard is the same as before.
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL.format(op=action)}'); END"
        )


def downgrade() -> None:
    """Back to one chain; only a log with events in the default chain alone can go back."""
    bind = op.get_bind()
    named = bind.execute(sa.text("SELECT count(*) FROM events WHERE chain <> ''")).scalar_one()
    if named:
        raise RuntimeError(f"{named} events belong to a school's own chain; one chain cannot hold them")
    heads = bind.execute(sa.text("SELECT seq, hash FROM log_head WHERE chain = ''")).all()
    op.drop_table("log_head")
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": digest} for seq, digest in heads[:1]])
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("events", recreate="always") as batch:
            batch.drop_constraint(op.f("pk_events"), type_="primary")
            batch.create_primary_key(op.f("pk_events"), ["seq"])
            batch.drop_column("chain")
        _refuse_sqlite_event_changes()
    else:
        op.drop_constraint(op.f("pk_events"), "events", type_="primary")
        op.create_primary_key(op.f("pk_events"), "events", ["seq"])
        op.drop_column("events", "chain")
