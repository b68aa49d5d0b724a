from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tulpar.models import Card, FiscalRegistration, Receipt


def next_number(session: Session, issuer: str) -> int:
    """Bump the issuer's counter and return the new number. The row stays locked until the
    transaction ends, so concurrent issuers queue up and a rollback gives the number back:
    no gaps, no duplicates."""
    return int(
        session.execute(
            text(
                "INSERT INTO receipt_counters (issuer, last_number) VALUES (:issuer, 1)"
                " ON CONFLICT (issuer) DO UPDATE"
                " SET last_number = receipt_counters.last_number + 1"
                " RETURNING last_number"
            ),
            {"issuer": issuer},
        ).scalar_one()
    )


def card(session: Session, card_id: int) -> Card | None:
    return session.get(Card, card_id)


def add(session: Session, receipt: Receipt) -> Receipt:
    session.add(receipt)
    session.flush()
    return receipt


def by_public_id(session: Session, public_id: str) -> Receipt | None:
    return session.scalars(select(Receipt).where(Receipt.public_id == public_id)).one_or_none()


def by_order(session: Session, order_id: int) -> Receipt | None:
    return session.scalars(select(Receipt).where(Receipt.order_id == order_id)).one_or_none()


def for_card(session: Session, card_id: int) -> list[Receipt]:
    query = select(Receipt).where(Receipt.card_id == card_id).order_by(Receipt.id.desc())
    return list(session.scalars(query))


def numbers_of(session: Session, issuer: str) -> list[int]:
    query = (
        select(Receipt.sequence_number)
        .where(Receipt.issuer == issuer)
        .order_by(Receipt.sequence_number)
    )
    return list(session.scalars(query))


def fiscal_registration(session: Session, receipt_id: int) -> FiscalRegistration | None:
    query = select(FiscalRegistration).where(FiscalRegistration.receipt_id == receipt_id)
    return session.scalars(query).one_or_none()
