"""The place covering index carries the event id; the plain place_id index goes.

Measured on 1M events (bench/query_bench.py, PostgreSQL): a 25 km radius page matched 18,657
events at four places and fetched each from the heap to read its id (15,054 buffer reads,
77 ms); with `id` in the covering index it is an index-only scan (13 ms). It matters more since
migration 0005 made event rows wider. ix_events_place_id is redundant beside an index that
starts with place_id (the planner, and the foreign key's ON DELETE check, use either), and
every write paid for it. SQLite's indexes carry the rowid (the id) already: there only the
redundant index goes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_events_place_date_cover"
KEY = ["place_id", "date_start"]
COVERED = [
    "date_end",
    "sub_event_type_code",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NAME, table_name="events")
        op.create_index(NAME, "events", KEY, postgresql_include=["id", *COVERED])
    op.drop_index("ix_events_place_id", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_place_id", "events", ["place_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NAME, table_name="events")
        op.create_index(NAME, "events", KEY, postgresql_include=COVERED)
