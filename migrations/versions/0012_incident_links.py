"""Incident links: proposed/confirmed/rejected links between events of different datasets (issue 12).

`event_links` holds each pair once (lower event id first) with the events' natural keys, so that
an analyst's decision survives a re-import; `event_link_changes` records each status change;
`incident_members` lists the events of each incident of two or more events (confirmed links).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "event_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_a_id", sa.Integer(), nullable=True),
        sa.Column("event_b_id", sa.Integer(), nullable=True),
        sa.Column("key_a", sa.String(length=100), nullable=False),
        sa.Column("key_b", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("components", _JSON, nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'confirmed', 'rejected')",
            name=op.f("ck_event_links_status_allowed"),
        ),
        sa.CheckConstraint("score >= 0 AND score <= 1", name=op.f("ck_event_links_score_unit")),
        sa.ForeignKeyConstraint(
            ["event_a_id"],
            ["events.id"],
            name=op.f("fk_event_links_event_a_id_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_b_id"],
            ["events.id"],
            name=op.f("fk_event_links_event_b_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_links")),
        sa.UniqueConstraint("key_a", "key_b", name=op.f("uq_event_links_key_a_key_b")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_event_links_event_a_id"), "event_links", ["event_a_id"])
    op.create_index(op.f("ix_event_links_event_b_id"), "event_links", ["event_b_id"])
    op.create_index("ix_event_links_status_id", "event_links", ["status", "id"])
    op.create_table(
        "event_link_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=False),
        sa.Column("status_to", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_event_link_changes_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["event_links.id"],
            name=op.f("fk_event_link_changes_link_id_event_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_link_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_event_link_changes_link_id"), "event_link_changes", ["link_id"])
    op.create_table(
        "incident_members",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_incident_members_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_incident_members")),
    )
    op.create_index(op.f("ix_incident_members_incident_id"), "incident_members", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_members_incident_id"), table_name="incident_members")
    op.drop_table("incident_members")
    op.drop_index(op.f("ix_event_link_changes_link_id"), table_name="event_link_changes")
    op.drop_table("event_link_changes")
    op.drop_index("ix_event_links_status_id", table_name="event_links")
    op.drop_index(op.f("ix_event_links_event_b_id"), table_name="event_links")
    op.drop_index(op.f("ix_event_links_event_a_id"), table_name="event_links")
    op.drop_table("event_links")
