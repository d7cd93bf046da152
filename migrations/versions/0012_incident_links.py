"""Incident links: proposed/confirmed/rejected links between events of different datasets (issue 12).

`event_links` holds each pair once (lower event id first) with the events' natural keys, so that
an analyst's decision survives a re-import; `event_link_changes` records each status change;
`incident_members` lists the events of each incident of two or more events (confirmed links).

It also brings each event's stored figure on the rule of app/claims/figures.py where the event's
claims give killed figures: the conservative account (lowest best) of one source, never a sum
of two sources' accounts. Writes keep it so from now on; /v1/aggregates reads the stored figure.

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


def _refresh_event_figures() -> None:
    """Each event's figure := its conservative account (the rule of app/claims/figures.py)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT cf.event_id, c.source_id, cf.count_low, cf.count_best, cf.count_high "
            "FROM casualty_figures cf LEFT JOIN claims c ON c.id = cf.claim_id "
            "WHERE cf.outcome = 'killed'"
        )
    ).all()
    accounts: dict[tuple[int, int], list[int | None]] = {}
    for event_id, source_id, low, best, high in rows:
        acc = accounts.setdefault((event_id, source_id or 0), [None, None, 0, 0])
        lo, be = (low if low is not None else best), (best if best is not None else low)
        if lo is not None:
            acc[0] = (acc[0] or 0) + lo
        if be is not None:
            acc[1] = (acc[1] or 0) + be
        if high is None:
            acc[3] = 1  # open
        else:
            acc[2] = (acc[2] or 0) + high
    big = 2**31
    chosen: dict[int, tuple[int, tuple[int | None, int | None, int | None]]] = {}
    for (event_id, source_id), (low, best, high, open_) in accounts.items():
        figure = (low, best, None if open_ else high)
        key = (
            best if best is not None else low if low is not None else big,
            low if low is not None else big,
            source_id,
        )
        current = chosen.get(event_id)
        if current is None or key < current[0]:  # type: ignore[operator]
            chosen[event_id] = (key, figure)  # type: ignore[assignment]
    for event_id, (_, (low, best, high)) in chosen.items():
        conn.execute(
            sa.text(
                "UPDATE events SET fatalities_low = :low, fatalities_best = :best, "
                "fatalities_high = :high WHERE id = :id"
            ),
            {"low": low, "best": best, "high": high, "id": event_id},
        )


def upgrade() -> None:
    _refresh_event_figures()
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
