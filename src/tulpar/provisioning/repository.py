from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tulpar.models import (
    Card,
    Plan,
    Provisioning,
    ProvisioningAttempt,
    ProvisioningState,
)


def add(session: Session, row: Provisioning | ProvisioningAttempt, *, flush: bool = True) -> None:
    """``flush=False``: inserted by the session's next flush, with what the transaction sets
    on it until then (one INSERT rather than an INSERT and an UPDATE)."""
    session.add(row)
    if flush:
        session.flush()


def for_order(session: Session, order_id: int, *, for_update: bool = False) -> Provisioning | None:
    query = select(Provisioning).where(Provisioning.order_id == order_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def by_reference(
    session: Session, reference: str, *, for_update: bool = False
) -> Provisioning | None:
    query = select(Provisioning).where(Provisioning.reference == reference)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def finish_attempt(
    session: Session,
    attempt_id: int,
    *,
    outcome: str,
    error_code: str | None,
    message: str | None,
    finished_at: datetime,
) -> bool:
    """Record how one attempt ended; False when there is no such attempt."""
    finished = session.execute(
        update(ProvisioningAttempt)
        .where(ProvisioningAttempt.id == attempt_id)
        .values(outcome=outcome, error_code=error_code, message=message, finished_at=finished_at)
        .returning(ProvisioningAttempt.id)
    )
    return finished.scalar_one_or_none() is not None


def attempts_of(session: Session, provisioning_id: int) -> list[ProvisioningAttempt]:
    query = (
        select(ProvisioningAttempt)
        .where(ProvisioningAttempt.provisioning_id == provisioning_id)
        .order_by(ProvisioningAttempt.number)
    )
    return list(session.scalars(query))


def overdue_order_ids(session: Session, *, before: datetime, limit: int) -> list[int]:
    query = (
        select(Provisioning.order_id)
        .where(
            Provisioning.state == ProvisioningState.in_progress,
            Provisioning.next_check_at < before,
        )
        .order_by(Provisioning.next_check_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def in_progress_order_ids_of_job(session: Session, job_id: int) -> list[int]:
    query = select(Provisioning.order_id).where(
        Provisioning.state == ProvisioningState.in_progress, Provisioning.next_job_id == job_id
    )
    return list(session.scalars(query.order_by(Provisioning.order_id)))


# Rows of other aggregates this domain reads by id (changes go through their services).
def card(session: Session, card_id: int) -> Card | None:
    return session.get(Card, card_id)


def plan(session: Session, plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


def waiting_job_id(session: Session, queueing_lock: str) -> int | None:
    """The job already waiting under ``queueing_lock`` (procrastinate allows one)."""
    return session.execute(
        text("SELECT id FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo'"),
        {"lock": queueing_lock},
    ).scalar_one_or_none()


def earlier_renewal_unsettled(
    session: Session, *, card_id: int, order_id: int, now: datetime, window: timedelta
) -> bool:
    """Whether an older renewal of the card is still within its retry window (being
    provisioned, or paid lately and about to be): this one waits behind it, so renewals of a
    card apply in order-id order. One stuck past its window never holds the others up."""
    query = text(
        """
        SELECT EXISTS (
            SELECT 1 FROM orders o
            LEFT JOIN provisionings p ON p.order_id = o.id
            WHERE o.card_id = :card_id AND o.id < :order_id AND o.kind = 'plan_renewal'
              AND ((o.state = 'paid' AND o.state_changed_at > :paid_since)
                   OR (o.state = 'provisioning' AND p.retry_until > :now))
        )
        """
    )
    params = {"card_id": card_id, "order_id": order_id, "now": now, "paid_since": now - window}
    return bool(session.execute(query, params).scalar_one())
