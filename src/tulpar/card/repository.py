from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from tulpar.models import Card, CardState


def get(session: Session, card_id: int, *, for_update: bool = False) -> Card | None:
    query = select(Card).where(Card.id == card_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def by_iccid(session: Session, iccid: str) -> Card | None:
    return session.scalars(select(Card).where(Card.iccid == iccid)).one_or_none()


def by_msisdn(session: Session, msisdn: str) -> Card | None:
    # A recycled number may belong to a terminated card and a live one: prefer the live card.
    query = (
        select(Card)
        .where(Card.msisdn == msisdn)
        .order_by(case((Card.state == CardState.terminated, 1), else_=0), Card.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def add(session: Session, card: Card) -> Card:
    session.add(card)
    session.flush()
    return card


def expire_lapsed(session: Session, *, now: datetime) -> int:
    result = session.execute(
        update(Card)
        .where(Card.state == CardState.active, Card.validity_ends_at <= now)
        .values(state=CardState.expired, state_changed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def terminate_after_grace(session: Session, *, now: datetime, grace: timedelta) -> int:
    result = session.execute(
        update(Card)
        .where(Card.state == CardState.expired, Card.validity_ends_at <= now - grace)
        .values(state=CardState.terminated, state_changed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
