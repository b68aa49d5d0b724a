from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tulpar.config import get_settings
from tulpar.models import (
    CounterMethod,
    CounterSale,
    DayClose,
    FiscalRegistration,
    Order,
    Receipt,
    Refund,
    RefundState,
    Store,
)


def lock_key(session: Session, staff_id: int, key: str) -> None:
    """Serialise sales of one staff user's Idempotency-Key until the transaction ends."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('counter_sale'), hashtext(:key))"),
        {"key": f"{staff_id}:{key}"},
    )


def sale_by_key(session: Session, staff_id: int, key: str) -> CounterSale | None:
    query = select(CounterSale).where(
        CounterSale.staff_id == staff_id, CounterSale.idempotency_key == key
    )
    return session.scalars(query).one_or_none()


def sale_by_terminal_reference(session: Session, reference: str) -> CounterSale | None:
    query = select(CounterSale).where(
        CounterSale.method == CounterMethod.card_terminal,
        CounterSale.terminal_reference == reference,
    )
    return session.scalars(query.limit(1)).one_or_none()


def sale_for_order(session: Session, order_id: int) -> CounterSale | None:
    return session.scalars(
        select(CounterSale).where(CounterSale.order_id == order_id)
    ).one_or_none()


def store(session: Session, store_id: int) -> Store | None:
    return session.get(Store, store_id)


def registration_of(session: Session, receipt_id: int) -> FiscalRegistration | None:
    return session.scalars(
        select(FiscalRegistration).where(FiscalRegistration.receipt_id == receipt_id)
    ).one_or_none()


def registration(
    session: Session, registration_id: int, *, for_update: bool = False
) -> FiscalRegistration | None:
    return session.get(FiscalRegistration, registration_id, with_for_update=for_update)


def day_receipts(
    session: Session, store_id: int, day: date, staff_id: int | None
) -> list[tuple[Receipt, CounterSale]]:
    query = (
        select(Receipt, CounterSale)
        .join(CounterSale, CounterSale.order_id == Receipt.order_id)
        .where(CounterSale.store_id == store_id, CounterSale.business_date == day)
        .order_by(Receipt.sequence_number)
    )
    if staff_id is not None:
        query = query.where(CounterSale.staff_id == staff_id)
    return [(row[0], row[1]) for row in session.execute(query)]


def day_close(
    session: Session, store_id: int, day: date, staff_id: int | None, *, for_update: bool = False
) -> DayClose | None:
    query = select(DayClose).where(
        DayClose.store_id == store_id,
        DayClose.business_date == day,
        DayClose.staff_id.is_(None) if staff_id is None else DayClose.staff_id == staff_id,
    )
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def card_refunds_on(session: Session, card_id: int, day: date) -> list[tuple[Refund, CounterSale]]:
    """Refunds of ``card_id``'s counter sales whose money went back (recorded) on ``day``."""
    local_day = func.date(func.timezone(get_settings().local_timezone, Refund.completed_at))
    query = (
        select(Refund, CounterSale)
        .join(CounterSale, CounterSale.order_id == Refund.order_id)
        .join(Order, Order.id == Refund.order_id)
        .where(
            Order.card_id == card_id,
            Refund.state == RefundState.succeeded,
            local_day == day,
        )
        .order_by(Refund.id)
    )
    return [(row[0], row[1]) for row in session.execute(query)]
