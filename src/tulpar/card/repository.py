from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, Select, case, select, update
from sqlalchemy.orm import Session

from tulpar.models import Card, CardState


def get(session: Session, card_id: int, *, for_update: bool = False) -> Card | None:
    if for_update:
        # Locked means current: refresh a copy already in the session from the locked row.
        return session.get(Card, card_id, with_for_update=True, populate_existing=True)
    return session.get(Card, card_id)  # a copy the session holds costs no statement


def lock_in_id_order(session: Session, card_ids: list[int]) -> None:
    if card_ids:
        session.execute(_in_id_order_for_update(Card.id.in_(card_ids))).all()


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


def _in_id_order_for_update(*conditions: ColumnElement[bool]) -> Select[int]:
    # Rows are locked in primary-key order, as every other writer does, so set-based
    # updates cannot deadlock with rating or renewals.
    return select(Card.id).where(*conditions).order_by(Card.id).with_for_update()


def _locked_in_id_order(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    return _in_id_order_for_update(*conditions).scalar_subquery()


def expire_lapsed(session: Session, *, now: datetime) -> int:
    due = _locked_in_id_order(Card.state == CardState.active, Card.validity_ends_at <= now)
    result = session.execute(
        update(Card)
        .where(Card.id.in_(due), Card.state == CardState.active)
        .values(state=CardState.expired, state_changed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def terminate_after_grace(session: Session, *, now: datetime, grace: timedelta) -> int:
    due = _locked_in_id_order(Card.state == CardState.expired, Card.validity_ends_at <= now - grace)
    result = session.execute(
        update(Card)
        .where(Card.id.in_(due), Card.state == CardState.expired)
        .values(state=CardState.terminated, state_changed_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
