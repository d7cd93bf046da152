"""PostgreSQL: the ACLED API's most common page, one country newest first, read from an index.

`/acled/acled/read?country=Syria` orders by ACLED's event_date (the middle of the event's span,
indexed alone by migration 0013) and filtered on the place's country: PostgreSQL walked the
day index newest first and joined each event to its place until 100 Syrian events were found
(~5 ms of the database per page on the peer bench's 1M ACLED rows, the slowest statement of the
ACLED API's page). On the event's own copy of the country (migration 0014) with this index, the
page is a range of the index read backwards. The expression is 0013's, spelled the same way
(app/acled_api/columns.py:event_date_expr). SQLite gets the column and this index in
migration 0016.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_events_country_acled_day"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON events "
        "(country_code, (date_start + (date_end - date_start) / 2), id)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
