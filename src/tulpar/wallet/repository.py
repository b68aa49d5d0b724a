from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tulpar.models import Wallet


def add(session: Session, wallet: Wallet) -> None:
    session.add(wallet)


def get(session: Session, card_id: int) -> Wallet | None:
    return session.get(Wallet, card_id)


def move(session: Session, *, card_id: int, delta_minor: int) -> int | None:
    """Atomically add ``delta_minor``; returns the new balance, or None if it would go negative."""
    result = session.execute(
        update(Wallet)
        .where(Wallet.card_id == card_id, Wallet.balance_minor + delta_minor >= 0)
        .values(balance_minor=Wallet.balance_minor + delta_minor, updated_at=func.now())
        .returning(Wallet.balance_minor)
    ).scalar_one_or_none()
    return None if result is None else int(result)


def balance(session: Session, card_id: int) -> int:
    value = session.scalar(select(Wallet.balance_minor).where(Wallet.card_id == card_id))
    return 0 if value is None else int(value)
