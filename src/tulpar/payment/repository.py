from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import Payment, PaymentState, Refund, RefundState


def add(session: Session, payment: Payment) -> Payment:
    session.add(payment)
    session.flush()
    return payment


def get(session: Session, payment_id: int) -> Payment | None:
    return session.get(Payment, payment_id, populate_existing=True)


def held(session: Session, payment_id: int) -> Payment | None:
    """The attempt as this session holds it (read only if it holds none): for the columns
    that never change (order, card, provider); its state is read with :func:`get`."""
    return session.get(Payment, payment_id)


def by_reference(session: Session, provider: str, reference: str) -> Payment | None:
    query = select(Payment).where(
        Payment.provider == provider, Payment.provider_reference == reference
    )
    return session.scalars(query).one_or_none()


def by_key(session: Session, idempotency_key: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).one_or_none()


def for_order(session: Session, order_id: int) -> list[Payment]:
    query = select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt)
    return list(session.scalars(query))


def next_attempt(session: Session, order_id: int) -> int:
    latest = session.scalar(select(func.max(Payment.attempt)).where(Payment.order_id == order_id))
    return 1 if latest is None else int(latest) + 1


def latest_attempt_id(session: Session, order_id: int) -> int | None:
    query = (
        select(Payment.id)
        .where(Payment.order_id == order_id)
        .order_by(Payment.attempt.desc())
        .limit(1)
    )
    found = session.scalar(query)
    return None if found is None else int(found)


def record_start(
    session: Session,
    payment_id: int,
    *,
    reference: str,
    next_action: dict[str, Any] | None,
    now: datetime,
) -> bool:
    result = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.provider_reference.is_(None))
        .values(provider_reference=reference, next_action=next_action, checked_at=now)
        .returning(Payment.id)
    )
    return result.scalar_one_or_none() is not None


def mark_succeeded(session: Session, payment_id: int, *, now: datetime) -> bool:
    """Money arrived. A failed or canceled attempt may still succeed (the payer retried at
    the provider); a succeeded one never moves again."""
    result = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.state != PaymentState.succeeded)
        .values(state=PaymentState.succeeded, succeeded_at=now, checked_at=now)
        .returning(Payment.id)
    )
    return result.scalar_one_or_none() is not None


def mark_failed(
    session: Session, payment_id: int, *, now: datetime, code: str | None, message: str | None
) -> bool:
    """Only a pending attempt can fail: a late failure after success changes nothing."""
    result = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.state == PaymentState.pending)
        .values(
            state=PaymentState.failed,
            failed_at=now,
            checked_at=now,
            failure_code=(code or "failed")[:64],
            failure_message=message,
        )
        .returning(Payment.id)
    )
    return result.scalar_one_or_none() is not None


def cancel_pending(session: Session, order_id: int, *, now: datetime) -> int:
    result = session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.state == PaymentState.pending)
        .values(state=PaymentState.canceled, checked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def touch(session: Session, payment_id: int, *, now: datetime) -> None:
    session.execute(update(Payment).where(Payment.id == payment_id).values(checked_at=now))


def claim_stuck(
    session: Session, *, now: datetime, quiet_for: timedelta, created_after: datetime, limit: int
) -> list[Payment]:
    """Pending payments nobody heard about lately, locked so that two re-query runs do not
    ask twice. The quiet time asked for grows with the payment's age (a quarter of it), so an
    abandoned checkout is asked about a few dozen times in a day, not every few minutes."""
    query = (
        select(Payment)
        .where(
            Payment.state == PaymentState.pending,
            Payment.provider.in_(["sandbox", "stripe"]),
            Payment.checked_at <= now - quiet_for,
            text("(:now - payments.checked_at) * 4 >= :now - payments.created_at").bindparams(
                now=now
            ),
            Payment.created_at >= created_after,
        )
        .order_by(Payment.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def succeeded_without_refund(session: Session, order_id: int) -> list[Payment]:
    query = (
        select(Payment)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(
            Payment.order_id == order_id,
            Payment.state == PaymentState.succeeded,
            Refund.id.is_(None),
        )
        .order_by(Payment.succeeded_at, Payment.id)
    )
    return list(session.scalars(query))


# Refunds


def add_refund_unless_exists(session: Session, values: dict[str, Any]) -> int | None:
    inserted = session.execute(
        insert(Refund)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["payment_id", "number"])
        .returning(Refund.id)
    ).scalar_one_or_none()
    return None if inserted is None else int(inserted)


def refund_for_update(session: Session, refund_id: int) -> Refund | None:
    query = select(Refund).where(Refund.id == refund_id).with_for_update()
    return session.scalars(query).one_or_none()


def finish_refund(
    session: Session,
    refund_id: int,
    *,
    state: RefundState,
    reference: str | None,
    failure_message: str | None,
    now: datetime,
) -> bool:
    """Settle a refund once: from ``requested`` (the provider's answer) or ``pending`` (its
    webhook). A settled refund never moves again, so a late or replayed event is a no-op."""
    result = session.execute(
        update(Refund)
        .where(
            Refund.id == refund_id,
            Refund.state.in_([RefundState.requested, RefundState.pending]),
        )
        .values(
            state=state,
            # The webhook may come before the answer that carried the reference.
            provider_reference=func.coalesce(reference, Refund.provider_reference),
            failure_message=failure_message,
            completed_at=now,
            attempts=Refund.attempts + 1,
        )
        .returning(Refund.id)
    )
    return result.scalar_one_or_none() is not None


def mark_refund_pending(
    session: Session,
    refund_id: int,
    *,
    reference: str | None,
    failure_message: str | None,
    now: datetime,
) -> bool:
    result = session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.state == RefundState.requested)
        .values(
            state=RefundState.pending,
            provider_reference=reference,
            failure_message=failure_message,
            attempts=Refund.attempts + 1,
            checked_at=now,
        )
        .returning(Refund.id)
    )
    return result.scalar_one_or_none() is not None


def claim_pending_refunds(
    session: Session, *, now: datetime, quiet_for: timedelta, limit: int
) -> list[tuple[Refund, Payment]]:
    """Pending refunds not heard of lately, locked so that two runs do not ask twice. As for
    payments, the quiet time grows with the refund's age (a quarter of it)."""
    query = (
        select(Refund, Payment)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.state == RefundState.pending,
            Refund.checked_at <= now - quiet_for,
            text("(:now - refunds.checked_at) * 4 >= :now - refunds.created_at").bindparams(
                now=now
            ),
        )
        .order_by(Refund.id)
        .limit(limit)
        .with_for_update(of=Refund, skip_locked=True)
    )
    return [(refund, payment) for refund, payment in session.execute(query)]


def touch_refund(session: Session, refund_id: int, *, now: datetime) -> None:
    session.execute(update(Refund).where(Refund.id == refund_id).values(checked_at=now))


def refund_by_reference(session: Session, provider: str, reference: str) -> Refund | None:
    query = (
        select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Payment.provider == provider, Refund.provider_reference == reference)
    )
    return session.scalars(query).first()


def refund_by_key(session: Session, provider: str, idempotency_key: str) -> Refund | None:
    query = (
        select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Payment.provider == provider, Refund.idempotency_key == idempotency_key)
    )
    return session.scalars(query).one_or_none()


def count_refund_attempt(session: Session, refund_id: int, *, failure_message: str) -> None:
    session.execute(
        update(Refund)
        .where(Refund.id == refund_id)
        .values(attempts=Refund.attempts + 1, failure_message=failure_message)
    )


def refunds_for_order(session: Session, order_id: int) -> list[Refund]:
    return list(
        session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))
    )
