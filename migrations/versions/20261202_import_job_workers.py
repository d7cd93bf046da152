"""Import jobs record their worker, so a crashed one is found and failed at startup.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: jobs from before this revision have no known worker (recovery leaves them be).
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("upload_path", sa.Text(), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN on both databases (SQLite 3.35+), as in 0003: no batch rebuild of the
    # table for two plain columns.
    op.execute("ALTER TABLE import_jobs DROP COLUMN upload_path")
    op.execute("ALTER TABLE import_jobs DROP COLUMN worker")
