"""An index on ACLED's event_date (the middle of the event's span), for the ACLED API's order.

`/acled/acled/read` answers newest first by ACLED's `event_date`, which conflictdb derives as
`date_start + (date_end - date_start) / 2` (app/acled_api/columns.py:event_date_expr). Nothing
indexed that expression: a page of Syria since 2020 read every event of the period and sorted
them (a parallel seq scan of 1M events, ~385 ms in PostgreSQL, 0.6-1.3 s per request). With the
expression indexed, the newest events are read in order until the page is full.

PostgreSQL only: SQLite's version of the expression (julianday arithmetic with bound
parameters) cannot be matched by an expression index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_events_acled_day"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON events "
            "((date_start + (date_end - date_start) / 2), id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {NAME}")
