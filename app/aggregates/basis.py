"""What an aggregate row sums, and how: the `basis` of /v1/aggregates (docs/aggregation.md).

- `event` (default): one figure per event, the account its policy chooses among the sources'
  accounts (app/claims/figures.py), or the figure recorded on the event where no claim gives
  one. Two sources' accounts of one event are never added.
- `source`: each source's accounts side by side, a row per source (`source` is null for figures
  recorded on the event or given without a claim).
- `incident`: events linked by confirmed links (app/links) count once: the incident's figure is
  one member event's figure, chosen by the same policy; within one group, after the filters.

Open bounds stay open: a row whose figures include one without an upper bound ("at least 13")
has `fatalities_high` null and counts them in `open_high`. Unknown figures are not zeros: the
row says how many events gave one (`figures`).

Every measure is SQL aggregated in the database: one statement, a LEFT JOIN to the (small)
accounts of the events whose claims give figures, and for `incident` a window over the
filtered rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from app.claims.figures import accounts, chosen_accounts, event_accounts, source_rank
from app.models import Event, IncidentMember, Source

BASES = ("event", "source", "incident")
_BIG = 2_147_483_647

# Counts of every row besides `events` and the sums: added across 'other' by `top`, zero-filled
# by `fill`.
COUNTS = (
    "figures",
    "open_high",
    "recorded",
    "claims",
    "accounts_set_aside",
)
INCIDENT_COUNTS = ("incidents", "linked_set_aside")


class EventFigure:
    """The figure each event contributes, as SQL over a LEFT JOIN of its accounts.

    With the default policy the figure is the event's own columns: every write keeps them on
    the conservative account (app/claims/figures.py), and the join is to a per-event count of
    accounts without a window function, so that PostgreSQL keeps aggregating in parallel
    workers (1M events, monthly by event type: a window subquery in the join took it from
    ~0.85 to ~1.7 s). With a source order, or for incidents, the chosen account is joined.
    """

    def __init__(self, kind: str, source_order: Sequence[int], with_accounts: bool = True) -> None:
        self.kind = kind
        self.source_order = source_order
        # False when no claim gives a killed figure anywhere (a database of imported datasets):
        # the default basis then joins nothing at all.
        self.with_accounts = with_accounts or kind != "event" or bool(source_order)
        # The default policy's figure is the event's own columns; the others, the account's.
        self.own_figures = kind == "event" and not source_order
        if self.own_figures:
            self.low: ColumnElement[Any] = Event.fatalities_low.expression
            self.best: ColumnElement[Any] = Event.fatalities_best.expression
            self.high: ColumnElement[Any] = Event.fatalities_high.expression
        else:
            has = self.from_claims
            self.low = case((has, self.acc.c.low), else_=Event.fatalities_low)
            self.best = case((has, self.acc.c.best), else_=Event.fatalities_best)
            self.high = case((has, self.acc.c.high), else_=Event.fatalities_high)

    # The subqueries below are built when a statement uses them, not for every aggregate: the
    # default basis over imported datasets uses none (~10% of a request's CPU when they were
    # all built each time).
    @cached_property
    def chosen(self) -> Subquery:
        return chosen_accounts(self.source_order)

    @cached_property
    def acc(self) -> Subquery:
        if self.kind == "source":
            return accounts()  # every account, side by side
        if self.own_figures:
            return event_accounts()
        return self.chosen

    @cached_property
    def from_claims(self) -> ColumnElement[bool]:
        return self.acc.c.event_id.isnot(None)

    @cached_property
    def rank(self) -> ColumnElement[int]:
        acc = self.acc
        return (
            source_rank(acc.c.source_id, self.source_order) if "source_id" in acc.c else literal(0)
        )

    def join(self, stmt: Select[Any]) -> Select[Any]:
        if not self.with_accounts:
            return stmt
        return stmt.outerjoin(self.acc, self.acc.c.event_id == Event.id)


def figure_flags(low: Any, best: Any, high: Any) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(has a figure, has a figure without upper bound) as 0/1."""
    known = or_(low.isnot(None), best.isnot(None))
    has = case((or_(known, high.isnot(None)), 1), else_=0)
    open_ = case((and_(known, high.is_(None)), 1), else_=0)
    return has, open_


def _sums(
    low: ColumnElement[Any],
    best: ColumnElement[Any],
    high: ColumnElement[Any],
    only: ColumnElement[bool] | None = None,
) -> list[Any]:
    """fatalities_low/best/high, figures and open_high over the rows (`only` those rows)."""

    def keep(expr: ColumnElement[Any]) -> ColumnElement[Any]:
        return expr if only is None else case((only, expr), else_=None)

    has, open_ = figure_flags(low, best, high)
    n_open = func.coalesce(func.sum(keep(open_)), 0)
    return [
        func.coalesce(func.sum(keep(func.coalesce(low, best))), 0).label("fatalities_low"),
        func.coalesce(func.sum(keep(func.coalesce(best, low))), 0).label("fatalities_best"),
        case(
            (n_open == 0, func.coalesce(func.sum(keep(func.coalesce(high, best, low))), 0)),
            else_=None,
        ).label("fatalities_high"),
        func.coalesce(func.sum(keep(has)), 0).label("figures"),
        n_open.label("open_high"),
    ]


def own_sources_statement(kind: str, with_accounts: bool) -> bool:
    """Whether `finish` gives a statement of each group's distinct sources of its own: basis
    event, where claims give figures."""
    return with_accounts and kind == "event"


def finish(
    stmt: Select[Any],
    columns: list[Any],
    keys: list[Any],
    fig: EventFigure,
    kind: str,
) -> tuple[Select[Any], list[str], Select[Any] | None]:
    """The statement with its measures and grouping; any dimension the basis adds; and for
    basis=event, the statement of each group's distinct sources (see `sources_statement`)."""
    if not fig.with_accounts:
        # No claim gives a figure: every figure is the one recorded on its event.
        has = figure_flags(fig.low, fig.best, fig.high)[0]
        plain = [
            func.count().label("events"),
            *_sums(fig.low, fig.best, fig.high),
            func.coalesce(func.sum(has), 0).label("recorded"),
            literal(0).label("claims"),
            literal(0).label("accounts_set_aside"),
            literal(0).label("sources"),
        ]
        out = stmt.with_only_columns(*columns, *plain)
        return (out.group_by(*keys) if keys else out), [], None
    acc = fig.acc
    no_claims = acc.c.event_id.is_(None)
    recorded = case(
        (and_(no_claims, figure_flags(fig.low, fig.best, fig.high)[0] == 1), 1), else_=0
    )
    if kind == "event":
        measures = [
            func.count().label("events"),
            *_sums(fig.low, fig.best, fig.high),
            func.coalesce(func.sum(recorded), 0).label("recorded"),
            func.coalesce(func.sum(acc.c.event_claims), 0).label("claims"),
            func.coalesce(func.sum(acc.c.accounts - 1), 0).label("accounts_set_aside"),
        ]
        out = stmt.with_only_columns(*columns, *measures)
        assert own_sources_statement(kind, fig.with_accounts)
        return (out.group_by(*keys) if keys else out), [], sources_statement(stmt, keys, fig)
    if kind == "source":
        src = aliased(Source, name="figure_source")
        measures = [
            acc.c.source_id.label("source_id"),
            func.max(src.name).label("source"),
            func.count().label("events"),
            *_sums(fig.low, fig.best, fig.high),
            func.coalesce(func.sum(recorded), 0).label("recorded"),
            func.coalesce(func.sum(acc.c.claims), 0).label("claims"),
            func.max(case((acc.c.source_id.isnot(None), 1), else_=0)).label("sources"),
            literal(0).label("accounts_set_aside"),
        ]
        out = stmt.outerjoin(src, src.id == acc.c.source_id).with_only_columns(*columns, *measures)
        return out.group_by(*keys, acc.c.source_id), ["source"], None
    # incident: one row per (event, dimension values) with the event's figure, then one
    # figure per incident and group.
    labels = [k.key for k in keys]
    member = aliased(IncidentMember, name="incident_member")
    inner_cols = [
        *keys,
        *(c.element.label("place_name_raw") for c in columns if c.key == "place_name"),
        Event.id.label("eid"),
        func.coalesce(member.incident_id, Event.id).label("inc"),
        fig.low.label("f_low"),
        fig.best.label("f_best"),
        fig.high.label("f_high"),
        case((fig.from_claims, 1), else_=0).label("from_claims"),
        acc.c.event_claims.label("claims"),
        acc.c.source_id.label("source_id"),
        acc.c.accounts.label("accounts"),
        fig.rank.label("rank"),
    ]
    inner = (
        stmt.outerjoin(member, member.event_id == Event.id)
        .with_only_columns(*inner_cols)
        .subquery("per_event")
    )
    ic = inner.c
    order = [
        ic.rank,
        func.coalesce(ic.f_best, ic.f_low, _BIG),
        func.coalesce(ic.f_low, _BIG),
        ic.eid,
    ]
    irn = func.row_number().over(partition_by=[*(ic[k] for k in labels), ic.inc], order_by=order)
    ranked = select(inner, irn.label("irn")).subquery("per_incident")
    rc = ranked.c
    first = rc.irn == 1
    has, _ = figure_flags(rc.f_low, rc.f_best, rc.f_high)
    outer_cols: list[Any] = [rc[k].label(k) for k in labels]
    if "place_name_raw" in rc:
        outer_cols.append(func.max(rc.place_name_raw).label("place_name"))
    outer_cols += [
        func.count().label("events"),
        func.count(distinct(rc.inc)).label("incidents"),
        *_sums(rc.f_low, rc.f_best, rc.f_high, only=first),
        func.coalesce(
            func.sum(case((and_(first, rc.from_claims == 0, has == 1), 1), else_=0)), 0
        ).label("recorded"),
        func.coalesce(func.sum(case((first, rc.claims), else_=None)), 0).label("claims"),
        func.count(distinct(case((first, rc.source_id), else_=None))).label("sources"),
        func.coalesce(func.sum(case((first, rc.accounts - 1), else_=None)), 0).label(
            "accounts_set_aside"
        ),
        func.coalesce(func.sum(case((and_(rc.irn > 1, has == 1), 1), else_=0)), 0).label(
            "linked_set_aside"
        ),
    ]
    out = select(*outer_cols)
    if labels:
        out = out.group_by(*(rc[k] for k in labels))
    return out, [], None


def sources_statement(stmt: Select[Any], keys: list[Any], fig: EventFigure) -> Select[Any]:
    """Per group, the number of distinct sources whose accounts gave the events' figures.

    A statement of its own: a DISTINCT count in the main one would make PostgreSQL sort every
    filtered event instead of hashing the groups (the weekly aggregate by admin1 over Syria on
    1M events, ~60 -> ~180 ms). This one keeps only the few events whose claims give figures.
    """
    ch = fig.chosen
    base = stmt if fig.acc is ch else stmt.outerjoin(ch, ch.c.event_id == Event.id)
    out = base.where(ch.c.event_id.isnot(None)).with_only_columns(
        *keys, func.count(distinct(ch.c.source_id)).label("sources")
    )
    return out.group_by(*keys) if keys else out


def describe(kind: str, policy: str, source_order: Sequence[str]) -> dict[str, Any]:
    """The `basis` object of a response: what each row sums, in words a client can show."""
    rule = {
        "event": "one figure per event: the account its policy chooses among the sources' "
        "accounts of that event (or the figure recorded on the event where no claim gives one); "
        "figures of different events are added, two accounts of one event never",
        "source": "each source's accounts side by side, a row per source; a source's account "
        "of an event is the sum of the killed figures its claims give; `source` null: figures "
        "recorded on the event or given without a claim",
        "incident": "one figure per incident (events joined by confirmed links; proposed links "
        "do not count): the figure of the member event its policy chooses; an unlinked event is "
        "an incident of its own",
    }[kind]
    return {
        "basis": kind,
        "policy": policy,
        "source_order": list(source_order),
        "rule": rule,
        "combines_sources_per_event": False,
        "open_bounds": "a row with any figure without upper bound has fatalities_high null; "
        "open_high counts them",
    }


__all__ = [
    "BASES",
    "COUNTS",
    "INCIDENT_COUNTS",
    "EventFigure",
    "describe",
    "figure_flags",
    "finish",
]
