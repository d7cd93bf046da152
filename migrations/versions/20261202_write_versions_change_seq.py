"""Writes: a change sequence on events and tombstones, unique revision numbers, claim versions.

- events.change_seq and event_tombstones.change_seq: the position of the writing transaction
  in the change feed (app/changes/service.py explains it): on PostgreSQL the transaction's id,
  on SQLite a counter (change_counter, one row) bumped once per writing transaction. Rows
  written before this migration get 1, so a full sync finds them.
- event_revisions: (event_id, version) becomes unique. Before, concurrent writes could repeat
  a number; such repeats are renumbered in id order (the order they were written) and the
  event's version raised to its last revision's number if it was lower.
- claims.version: rises with each change of the claim or of the figures it carries.
- event_tombstones: one per deleted event id (unique), no longer one per natural key: a key
  deleted, created again and deleted again keeps both, so a client holding the first id learns
  that it went (before, the second deletion overwrote the first, and an import removed it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE events SET change_seq = 1")
    op.create_index("ix_events_change_seq_id", "events", ["change_seq", "id"])
    with op.batch_alter_table("event_tombstones") as batch:
        batch.add_column(
            sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute("UPDATE event_tombstones SET change_seq = 1")
    op.create_index("ix_event_tombstones_change_seq_id", "event_tombstones", ["change_seq", "id"])
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 1}])
    # Repeated revision numbers (concurrent writes before this migration), renumbered.
    op.execute(
        "UPDATE event_revisions SET version = ("
        "SELECT count(*) FROM event_revisions r "
        "WHERE r.event_id = event_revisions.event_id AND r.id <= event_revisions.id) "
        "WHERE event_id IN (SELECT event_id FROM event_revisions "
        "GROUP BY event_id, version HAVING count(*) > 1)"
    )
    op.execute(
        "UPDATE events SET version = (SELECT max(r.version) FROM event_revisions r "
        "WHERE r.event_id = events.id) WHERE version < (SELECT max(r.version) "
        "FROM event_revisions r WHERE r.event_id = events.id)"
    )
    op.drop_index("ix_event_revisions_event_id_version", table_name="event_revisions")
    op.create_index(
        "ix_event_revisions_event_id_version",
        "event_revisions",
        ["event_id", "version"],
        unique=True,
    )
    with op.batch_alter_table("event_tombstones") as batch:
        batch.drop_constraint("uq_event_tombstones_dataset_external_id", type_="unique")
        batch.drop_index("ix_event_tombstones_event_id")
        batch.create_index("ix_event_tombstones_event_id", ["event_id"], unique=True)
        batch.create_index("ix_event_tombstones_dataset_external_id", ["dataset", "external_id"])


def downgrade() -> None:
    # Keys deleted more than once keep their latest tombstone, as before this migration.
    op.execute(
        "DELETE FROM event_tombstones WHERE EXISTS (SELECT 1 FROM event_tombstones t "
        "WHERE t.dataset = event_tombstones.dataset "
        "AND t.external_id = event_tombstones.external_id AND t.id > event_tombstones.id)"
    )
    with op.batch_alter_table("event_tombstones") as batch:
        batch.drop_index("ix_event_tombstones_dataset_external_id")
        batch.drop_index("ix_event_tombstones_event_id")
        batch.create_index("ix_event_tombstones_event_id", ["event_id"])
        batch.create_unique_constraint(
            "uq_event_tombstones_dataset_external_id", ["dataset", "external_id"]
        )
    op.drop_index("ix_event_revisions_event_id_version", table_name="event_revisions")
    op.create_index(
        "ix_event_revisions_event_id_version", "event_revisions", ["event_id", "version"]
    )
    op.drop_table("change_counter")
    op.drop_index("ix_event_tombstones_change_seq_id", table_name="event_tombstones")
    op.drop_index("ix_events_change_seq_id", table_name="events")
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the events' FTS triggers.
    op.execute("ALTER TABLE claims DROP COLUMN version")
    op.execute("ALTER TABLE event_tombstones DROP COLUMN change_seq")
    op.execute("ALTER TABLE events DROP COLUMN change_seq")
