"""The event-figure rule: one home for how a fatality figure is read from the claims.

A source's **account** of an event is the sum of the `killed` casualty figures that its claims
about the event give (the Observatory's "at least 13" regime fighters and "at least 11" rebels
are one account: low 24, best 24, no high). Summing inside one account is sound: one source
does not count the same dead twice across its own groups. Figures given without a claim form
one account of their own (source unknown).

An unknown low counts as the best and an unknown best as the low; an account's high is known
only when every figure in it has one ("at least" has no upper bound).

The event's figure is **one** account, chosen by a policy, never the sum of two sources'
accounts of the same deaths:

- `conservative` (the default; ACLED codes "the most conservative" figure): the account with
  the lowest best, then the lowest low, then the lowest source id;
- `source_order`: the first account whose source is in the given order, else as conservative.

An event whose claims give no killed figure keeps the figure recorded on it (an imported
dataset's coded figure, or the one an API client wrote). Every API write to an event ends with
`refresh_event_figures` (called from `events/history.record_change`), so the event's stored
`fatalities_low/best/high` are always the conservative account: the event list and
`/v1/aggregates?basis=event` (which reads the same subquery) agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import Subquery, case, distinct, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.models import CasualtyFigure, Claim, Event

Policy = Literal["conservative", "source_order"]
POLICIES: tuple[str, ...] = ("conservative", "source_order")

# Larger than any count: sorts an unknown figure after every known one.
_UNKNOWN = 2_147_483_647


def accounts() -> Subquery:
    """Per (event, source): the sum of the killed figures that source's claims give.

    Columns: event_id, source_id (NULL for figures given without a claim), claims, low, best,
    high (NULL when any figure is open), open (1 when the account has no upper bound).
    """
    cf = CasualtyFigure
    low = func.sum(func.coalesce(cf.count_low, cf.count_best))
    best = func.sum(func.coalesce(cf.count_best, cf.count_low))
    all_high = func.count() == func.count(cf.count_high)
    return (
        select(
            cf.event_id.label("event_id"),
            Claim.source_id.label("source_id"),
            func.count(distinct(cf.claim_id)).label("claims"),
            low.label("low"),
            best.label("best"),
            case((all_high, func.sum(cf.count_high)), else_=None).label("high"),
        )
        .select_from(cf)
        .outerjoin(Claim, Claim.id == cf.claim_id)
        .where(cf.outcome == "killed")
        .group_by(cf.event_id, Claim.source_id)
        .subquery("accounts")
    )


def source_rank(source_id: ColumnElement[Any], source_order: Sequence[int]) -> ColumnElement[int]:
    """0, 1, ... for the sources in `source_order`, then len(source_order) for any other."""
    if not source_order:
        return literal(0)
    whens = {sid: i for i, sid in enumerate(source_order)}
    return case(whens, value=source_id, else_=len(source_order))


def ranked_accounts(source_order: Sequence[int] = ()) -> Subquery:
    """Every account with its rank among the event's accounts (`rn` 1 is the event's figure),
    the number of accounts the event has (`accounts`) and of claims giving them
    (`event_claims`)."""
    a = accounts()
    order = [
        source_rank(a.c.source_id, source_order),
        func.coalesce(a.c.best, a.c.low, _UNKNOWN),
        func.coalesce(a.c.low, _UNKNOWN),
        func.coalesce(a.c.source_id, 0),
    ]
    event = a.c.event_id
    return select(
        a,
        func.row_number().over(partition_by=event, order_by=order).label("rn"),
        func.count().over(partition_by=event).label("accounts"),
        func.sum(a.c.claims).over(partition_by=event).label("event_claims"),
    ).subquery("ranked_accounts")


def event_accounts() -> Subquery:
    """Per event whose claims give figures: how many accounts (`accounts`) and claims
    (`event_claims`). No window: PostgreSQL can join it inside a parallel scan."""
    a = accounts()
    return (
        select(
            a.c.event_id,
            func.count().label("accounts"),
            func.sum(a.c.claims).label("event_claims"),
        )
        .group_by(a.c.event_id)
        .subquery("event_accounts")
    )


def chosen_accounts(source_order: Sequence[int] = ()) -> Subquery:
    """The one account per event that gives its figure (only events whose claims give one)."""
    r = ranked_accounts(source_order)
    return select(r).where(r.c.rn == 1).subquery("chosen")


async def refresh_event_figures(session: AsyncSession, event_ids: Iterable[int]) -> None:
    """Set each event's stored figure to its conservative account, where its claims give one."""
    ids = sorted(set(event_ids))
    if not ids:
        return
    ch = chosen_accounts()
    rows = (
        await session.execute(
            select(ch.c.event_id, ch.c.low, ch.c.best, ch.c.high).where(ch.c.event_id.in_(ids))
        )
    ).all()
    for event_id, low, best, high in rows:
        await session.execute(
            update(Event)
            .where(Event.id == event_id)
            .where(
                (func.coalesce(Event.fatalities_low, -1) != func.coalesce(low, -1))
                | (func.coalesce(Event.fatalities_best, -1) != func.coalesce(best, -1))
                | (func.coalesce(Event.fatalities_high, -1) != func.coalesce(high, -1))
            )
            .values(
                fatalities_low=None if low is None else int(low),
                fatalities_best=None if best is None else int(best),
                fatalities_high=None if high is None else int(high),
            )
            .execution_options(synchronize_session=False)
        )


__all__ = [
    "POLICIES",
    "Policy",
    "accounts",
    "chosen_accounts",
    "event_accounts",
    "ranked_accounts",
    "refresh_event_figures",
    "source_rank",
]
