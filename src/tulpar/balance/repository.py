"""The balance read model: one statement finds the card and reads everything its balance
shows — the card, all its bundles with their plan codes and whether each counts now, the
wallet, and when the newest rated usage occurred.

A read model is the one exception to "a domain uses another through its service": reading
the card, bundle, plan, wallet and usage tables here, in one statement, is what makes a
balance one round trip instead of seven (and one consistent snapshot instead of seven). Each
expression below names the query it must agree with; ``tests/balance`` compares the two
paths on cards in every state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Result,
    Select,
    and_,
    bindparam,
    case,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from tulpar.models import Bundle, BundleState, Card, CardState, Plan, UsageOverage, Wallet


@dataclass(frozen=True, slots=True)
class BundleRow:
    bundle: Bundle
    plan_code: str
    counts_now: bool  # valid at the moment asked about (it adds to the card's totals)


@dataclass(frozen=True, slots=True)
class BalanceRows:
    card: Card
    bundles: list[BundleRow]  # by start, then id
    wallet_minor: int
    usage_as_of: datetime | None


# bundle.repository.valid_at: a live state and starts_at <= at < expires_at.
_LIVE_STATES = (BundleState.scheduled, BundleState.active, BundleState.exhausted)
_AT: BindParameter[datetime] = bindparam("at")
_COUNTS_NOW = and_(Bundle.state.in_(_LIVE_STATES), Bundle.starts_at <= _AT, Bundle.expires_at > _AT)
# wallet.repository.balance; no wallet row reads as 0 (below).
_WALLET = select(Wallet.balance_minor).where(Wallet.card_id == Card.id).scalar_subquery()
# rating.repository._NEWEST_USAGE: the newest use any bundle remembers, or the newest overage
# (greatest() skips NULLs). The window runs over the one card's bundle rows.
_USAGE_AS_OF = func.greatest(
    func.max(Bundle.last_usage_at).over(),
    select(func.max(UsageOverage.occurred_at))
    .where(UsageOverage.card_id == Card.id)
    .scalar_subquery(),
)

# One row per bundle (a card without bundles: one row of NULLs beside the card).
_Rows = Select[Card, Bundle | None, str | None, bool | None, int | None, datetime | None]
_Result = Result[Card, Bundle | None, str | None, bool | None, int | None, datetime | None]


def _balance_of(card_is: ColumnElement[bool]) -> _Rows:
    return (
        select(Card, Bundle, Plan.code, _COUNTS_NOW, _WALLET, _USAGE_AS_OF)
        .outerjoin(Bundle, Bundle.card_id == Card.id)
        .outerjoin(Plan, Plan.id == Bundle.plan_id)
        .where(card_is)
        .order_by(Bundle.starts_at, Bundle.id)  # bundle.repository.for_card
    )


_BY_ID = _balance_of(Card.id == bindparam("card_id"))
_BY_ICCID = _balance_of(Card.iccid == bindparam("iccid"))
# card.repository.by_msisdn: a recycled number may belong to a terminated card and a live
# one; the live card wins, then the newest.
_numbered = aliased(Card)
_BY_MSISDN = _balance_of(
    Card.id
    == select(_numbered.id)
    .where(_numbered.msisdn == bindparam("msisdn"))
    .order_by(case((_numbered.state == CardState.terminated, 1), else_=0), _numbered.id.desc())
    .limit(1)
    .scalar_subquery()
)


def by_card_id(session: Session, card_id: int, *, at: datetime) -> BalanceRows | None:
    return _rows(session.execute(_BY_ID, {"card_id": card_id, "at": at}))


def by_iccid(session: Session, iccid: str, *, at: datetime) -> BalanceRows | None:
    return _rows(session.execute(_BY_ICCID, {"iccid": iccid, "at": at}))


def by_msisdn(session: Session, msisdn: str, *, at: datetime) -> BalanceRows | None:
    return _rows(session.execute(_BY_MSISDN, {"msisdn": msisdn, "at": at}))


def _rows(result: _Result) -> BalanceRows | None:
    rows = result.all()
    if not rows:
        return None
    card, _, _, _, wallet_minor, usage_as_of = rows[0]
    return BalanceRows(
        card=card,
        bundles=[
            BundleRow(bundle=bundle, plan_code=code or "?", counts_now=bool(counts_now))
            for _, bundle, code, counts_now, _, _ in rows
            if bundle is not None
        ],
        wallet_minor=wallet_minor or 0,
        usage_as_of=usage_as_of,
    )


def bundles_page(
    session: Session, card_id: int, *, before: tuple[datetime, int] | None, limit: int
) -> list[BundleRow]:
    """Up to ``limit`` of a card's bundles created before ``before`` (created_at, id), newest
    first (``counts_now`` is not asked here: False)."""
    query = (
        select(Bundle, Plan.code)
        .join(Plan, Plan.id == Bundle.plan_id)
        .where(Bundle.card_id == card_id)
        .order_by(Bundle.created_at.desc(), Bundle.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(tuple_(Bundle.created_at, Bundle.id) < tuple_(*before))
    return [
        BundleRow(bundle=bundle, plan_code=code, counts_now=False)
        for bundle, code in session.execute(query)
    ]
