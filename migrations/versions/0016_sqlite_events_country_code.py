"""SQLite: each event keeps its place's country code too, indexed with both orders by date.

Migrations 0014 and 0015 gave PostgreSQL the event's own copy of its place's country, with an
index for the list's order (date_start, id) and one for the ACLED API's (ACLED's day, id). On
SQLite the same pages still joined the country's places to their events and sorted them all:
the ACLED API's page of Syria since 2020 took 22 ms of SQLite on the peer bench's 1M rows (a
temp B-tree over every matching event). This gives SQLite the same column and indexes.

SQLite's triggers cannot change the row being inserted, so they write the copy after it: an
event inserted or moved to another place takes its place's code; a place whose code changes
gives it to its events. Recursive triggers are off (SQLite's default), and the full-text
triggers fire on summary and notes only, so the copy's own UPDATE sets nothing else off.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 18:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's spelling of ACLED's day (migration 0013, app/acled_api/columns.py:event_date_expr).
DAY = (
    "date(julianday(date_start) + "
    "CAST((julianday(date_end) - julianday(date_start)) / 2 AS INTEGER))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE events ADD COLUMN country_code VARCHAR(2)")
    op.execute(
        "UPDATE events SET country_code = "
        "(SELECT country_code FROM places WHERE places.id = events.place_id) "
        "WHERE place_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_events_country_date ON events (country_code, date_start, id)"
    )
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_events_country_acled_day ON events "
        f"(country_code, {DAY}, id)"
    )
    op.execute(
        "CREATE TRIGGER events_country_code_ai AFTER INSERT ON events "
        "WHEN new.place_id IS NOT NULL BEGIN UPDATE events SET country_code = "
        "(SELECT country_code FROM places WHERE id = new.place_id) WHERE id = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER events_country_code_au AFTER UPDATE OF place_id ON events BEGIN "
        "UPDATE events SET country_code = "
        "(SELECT country_code FROM places WHERE id = new.place_id) WHERE id = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER places_country_code_au AFTER UPDATE OF country_code ON places "
        "WHEN old.country_code IS NOT new.country_code BEGIN "
        "UPDATE events SET country_code = new.country_code WHERE place_id = new.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("places_country_code_au", "events_country_code_au", "events_country_code_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP INDEX IF EXISTS ix_events_country_acled_day")
    op.execute("DROP INDEX IF EXISTS ix_events_country_date")
    op.execute("ALTER TABLE events DROP COLUMN country_code")
