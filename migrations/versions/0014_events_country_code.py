"""PostgreSQL: each event keeps its place's country code, indexed with the list's order.

The list's most common filter, one country newest first, was answered by joining the country's
places to their events and sorting them all: Syria since 2020 on the peer bench's 1M ACLED rows
read 255 places and 8,533 events to return 100 (~6.6-10 ms of the database per page). With the
code on the event and an index on (country_code, date_start, id), the page is a range of that
index read backwards.

The column is the place's, kept by two triggers (so every write path keeps it: the API, the
imports' upserts and COPYs, hand-written SQL): an event takes its place's code when inserted or
moved to another place; a place whose code changes gives it to its events. Like
`search_vector`, it is managed here and not by the models (migrations/env.py leaves it out of
the model comparison); queries name it as `events.country_code` on PostgreSQL only. SQLite keeps
the join.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_events_country_date"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE events ADD COLUMN IF NOT EXISTS country_code varchar(2)")
    op.execute(
        "UPDATE events SET country_code = places.country_code "
        "FROM places WHERE places.id = events.place_id"
    )
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON events (country_code, date_start, id)")
    op.execute(
        """CREATE OR REPLACE FUNCTION events_country_code() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          NEW.country_code := (SELECT country_code FROM places WHERE id = NEW.place_id);
          RETURN NEW;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER events_country_code BEFORE INSERT OR UPDATE OF place_id ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_country_code()"
    )
    op.execute(
        """CREATE OR REPLACE FUNCTION places_country_code() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE events SET country_code = NEW.country_code WHERE place_id = NEW.id;
          RETURN NULL;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER places_country_code AFTER UPDATE OF country_code ON places "
        "FOR EACH ROW WHEN (OLD.country_code IS DISTINCT FROM NEW.country_code) "
        "EXECUTE FUNCTION places_country_code()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS places_country_code ON places")
    op.execute("DROP FUNCTION IF EXISTS places_country_code()")
    op.execute("DROP TRIGGER IF EXISTS events_country_code ON events")
    op.execute("DROP FUNCTION IF EXISTS events_country_code()")
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.execute("ALTER TABLE events DROP COLUMN IF EXISTS country_code")
