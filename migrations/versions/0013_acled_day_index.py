"""An index on ACLED's event_date (the middle of the event's span), for the ACLED API's order.

`/acled/acled/read` answers newest first by ACLED's `event_date`, which conflictdb derives as
`date_start + (date_end - date_start) / 2` (app/acled_api/columns.py:event_date_expr). Nothing
indexed that expression: a page of Syria since 2020 read every event of the period and sorted
them (a parallel seq scan of 1M events, ~385 ms in PostgreSQL, 0.6-1.3 s per request). With the
expression indexed, the newest events are read in order until the page is full.

SQLite has the index too, on its own spelling of the expression (julianday arithmetic; date
functions without 'now' may be indexed). There the page took 3.5 s on the peer bench's 1M rows
(1.8 req/s). The application's expression must stay exactly these (no bound parameter), which
tests/acled_api/test_day_index.py checks through each database's plan.

It also makes ix_events_type_of_violence partial (`WHERE type_of_violence IS NOT NULL`): the
ACLED API's default "ACLED-coded rows" test is `type_of_violence IS NULL`, true of nearly every
row of an ACLED database, and SQLite without statistics took the full index for it (every
event, fetched through the index, then sorted). UCDP's filters (`= 1`, `IN (...)`) imply the
index's condition and still use it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_events_acled_day"
# Each database's spelling of app/acled_api/columns.py:event_date_expr.
EXPRESSION = {
    "postgresql": "(date_start + (date_end - date_start) / 2)",
    "sqlite": "date(julianday(date_start) + CAST((julianday(date_end) - julianday(date_start)) / 2 AS INTEGER))",
}
TOV = "ix_events_type_of_violence"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON events (({EXPRESSION[dialect]}), id)")
    op.drop_index(TOV, table_name="events")
    op.create_index(
        TOV,
        "events",
        ["type_of_violence"],
        postgresql_where=sa.text("type_of_violence IS NOT NULL"),
        sqlite_where=sa.text("type_of_violence IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(TOV, table_name="events")
    op.create_index(TOV, "events", ["type_of_violence"])
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
