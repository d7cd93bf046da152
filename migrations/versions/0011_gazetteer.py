"""Gazetteer: administrative units by ISO 3166-2 code, their name aliases, and places attached to them (issue 12).

Also UCDP's own coding on events (type_of_violence, conflict and dyad ids), filled from the
extras where earlier imports kept them. The units and their names are loaded by `conflictdb
migrate` (app/gazetteer/service.py), which then attaches the existing places.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UCDP_COLUMNS = {
    "type_of_violence": "type_of_violence",
    "conflict_id": "conflict_new_id",
    "dyad_id": "dyad_new_id",
}


def upgrade() -> None:
    op.create_table(
        "admin_units",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("unit_type", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_admin_units"),
    )
    op.create_index("ix_admin_units_country_code", "admin_units", ["country_code"])
    op.create_table(
        "admin_unit_names",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("name_key", sa.String(length=765), nullable=False),
        sa.Column("unit_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["admin_units.code"],
            name="fk_admin_unit_names_unit_code_admin_units",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("country_code", "name_key", name="pk_admin_unit_names"),
    )
    op.create_index("ix_admin_unit_names_unit_code", "admin_unit_names", ["unit_code"])
    # Plain columns, no foreign key (SQLite would rebuild the table for one): the codes come
    # from the gazetteer only, which is reference data whose units are never deleted.
    op.add_column("places", sa.Column("admin1_code", sa.String(length=16), nullable=True))
    op.add_column("places", sa.Column("admin2_key", sa.String(length=765), nullable=True))
    op.create_index("ix_places_admin1_code", "places", ["admin1_code"])
    op.create_index("ix_places_admin2_key", "places", ["admin2_key"])
    for column in _UCDP_COLUMNS:
        op.add_column("events", sa.Column(column, sa.Integer(), nullable=True))
        op.create_index(f"ix_events_{column}", "events", [column])
    _backfill_ucdp()


def _backfill_ucdp() -> None:
    """UCDP rows imported before this revision keep their coding in extras: copy it out."""
    bind = op.get_bind()
    for column, key in _UCDP_COLUMNS.items():
        if bind.dialect.name == "postgresql":
            value = f"extras->>'{key}'"
            test = f"{value} ~ '^[0-9]{{1,9}}$'"
            cast = f"CAST({value} AS INTEGER)"
        else:
            value = f"json_extract(extras, '$.{key}')"
            test = f"typeof({value}) = 'integer' AND {value} BETWEEN 0 AND 999999999"
            cast = value
        op.execute(
            f"UPDATE events SET {column} = {cast} "  # noqa: S608
            f"WHERE extras IS NOT NULL AND {test}"
        )


def downgrade() -> None:
    for column in _UCDP_COLUMNS:
        op.drop_index(f"ix_events_{column}", table_name="events")
        op.drop_column("events", column)
    op.drop_index("ix_places_admin2_key", table_name="places")
    op.drop_index("ix_places_admin1_code", table_name="places")
    op.drop_column("places", "admin2_key")
    op.drop_column("places", "admin1_code")
    op.drop_index("ix_admin_unit_names_unit_code", table_name="admin_unit_names")
    op.drop_table("admin_unit_names")
    op.drop_index("ix_admin_units_country_code", table_name="admin_units")
    op.drop_table("admin_units")
