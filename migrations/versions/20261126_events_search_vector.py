"""PostgreSQL: the search words of each event stored in a generated column, indexed by GIN.

Before, the GIN index was built on the expression to_tsvector('english', summary || ' ' ||
notes), computed again whenever the index was rebuilt (a big import: 23 s of 88 s for 1M ACLED
rows, in one backend after the load) and for every candidate row a phrase search rechecks. A
STORED generated column computes it once, as each row is written (during a big import, while
the next batch is parsed), and the index build reads it (5 s for 1M rows). The column is the
database's own: the models do not map it, so no write can set it wrongly. SQLite keeps FTS5.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 04:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = "summary || ' ' || coalesce(notes, '')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_events_fts")
    op.execute(
        "ALTER TABLE events ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('english', {DOCUMENT})) STORED"
    )
    op.execute("CREATE INDEX ix_events_fts ON events USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_events_fts")
    op.execute("ALTER TABLE events DROP COLUMN IF EXISTS search_vector")
    op.execute(
        f"CREATE INDEX ix_events_fts ON events USING gin (to_tsvector('english', {DOCUMENT}))"
    )
