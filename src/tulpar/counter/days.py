"""Day close, per clerk and per store: totals by payment method, the day's receipts, refunds
of the day's sales and the cash expected in the till. Closing freezes the figures; a store
manager (or an admin) may reopen a day with a reason (audited ``day.reopen``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.audit import service as audit
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.config import get_settings
from tulpar.counter import repository
from tulpar.errors import InvalidInputError, TulparError
from tulpar.models import CounterMethod, CounterSale, DayClose, DayCloseState, Refund, RefundState

METHODS = tuple(method.value for method in CounterMethod)


class DayClosedError(TulparError):
    status = 409
    code = "day_closed"
    title = "This day is closed"


def business_date() -> date:
    """Today at the stores (the local time zone)."""
    return clock.to_local(clock.now()).date()


def figures(session: Session, store_id: int, day: date, staff_id: int | None) -> dict[str, Any]:
    """The day as it stands: each receipt, sales and refunds per method, net, expected cash.
    Refunds count on the day their money went back (completed), against the store (and
    clerk) that sold the order."""
    receipts = repository.day_receipts(session, store_id, day, staff_id)
    sales = dict.fromkeys(METHODS, 0)
    for receipt, sale in receipts:
        sales[sale.method.value] += receipt.total_minor
    refunds = dict.fromkeys(METHODS, 0)
    query = (
        select(CounterSale.method, func.coalesce(func.sum(Refund.amount_minor), 0))
        .join(CounterSale, CounterSale.order_id == Refund.order_id)
        .where(
            CounterSale.store_id == store_id,
            Refund.state == RefundState.succeeded,
            func.date(func.timezone(get_settings().local_timezone, Refund.completed_at)) == day,
        )
        .group_by(CounterSale.method)
    )
    if staff_id is not None:
        query = query.where(CounterSale.staff_id == staff_id)
    for method, amount in session.execute(query):
        refunds[CounterMethod(method).value] = int(amount)
    return {
        "business_date": day.isoformat(),
        "currency": "KZT",
        "receipts": [
            {
                "number": receipt.number,
                "public_id": receipt.public_id,
                "method": sale.method.value,
                "total_minor": receipt.total_minor,
                "staff_id": sale.staff_id,
            }
            for receipt, sale in receipts
        ],
        "sales_minor": sales,
        "refunds_minor": refunds,
        "net_minor": {method: sales[method] - refunds[method] for method in METHODS},
        "expected_cash_minor": sales["cash"] - refunds["cash"],
    }


def _scope(caller: Caller, whole_store: bool) -> tuple[int, int | None]:
    if caller.store_id is None:
        raise InvalidInputError("Day close is for staff of a store")
    if whole_store:
        roles.require(caller, "store.day_close_store")
        return caller.store_id, None
    if caller.staff_id is None:
        raise InvalidInputError("Day close is for a signed-in staff user")
    return caller.store_id, caller.staff_id


def store_for(session: Session, caller: Caller, requested: int | None) -> int:
    """The store whose days ``caller`` works on: a clerk's or store manager's own (another
    store's is "not found", 404); support and admin span all stores, so they name it
    (``requested``; an unknown store is 404)."""
    if caller.role in roles.STORE_BOUND_ROLES:
        store_id = caller.store_id if requested is None else requested
        roles.ensure_same_store(caller, store_id)
        assert store_id is not None
        return store_id
    roles.ensure_same_store(caller, requested)  # a non-staff caller: 403
    if requested is None:
        raise InvalidInputError("Choose the store")
    if repository.store(session, requested) is None:
        raise roles.NotFoundError()
    return requested


def view(
    session: Session,
    caller: Caller,
    *,
    store_id: int,
    day: date,
    staff_id: int | None,
) -> tuple[dict[str, Any], DayClose | None]:
    """The day's figures (frozen ones once closed) and its close, if any."""
    roles.require(caller, "store.day_view")
    roles.ensure_same_store(caller, store_id)
    closed = repository.day_close(session, store_id, day, staff_id)
    if closed is not None and closed.state is DayCloseState.closed:
        return closed.figures, closed
    return figures(session, store_id, day, staff_id), closed


def close(session: Session, caller: Caller, *, day: date, whole_store: bool = False) -> DayClose:
    """Close the caller's own day (or, for a store manager, the store's): the figures are
    frozen. Closing a closed day is refused (409)."""
    roles.require(caller, "store.day_close")
    store_id, staff_id = _scope(caller, whole_store)
    repository.lock_key(session, 0, f"day:{store_id}:{day.isoformat()}:{staff_id}")
    existing = repository.day_close(session, store_id, day, staff_id, for_update=True)
    if existing is not None and existing.state is DayCloseState.closed:
        raise DayClosedError("This day is closed already")
    frozen = figures(session, store_id, day, staff_id)
    now = clock.now()
    if existing is None:
        existing = DayClose(
            store_id=store_id,
            staff_id=staff_id,
            business_date=day,
            state=DayCloseState.closed,
            figures=frozen,
            closed_by=caller.actor,
            closed_at=now,
        )
        session.add(existing)
    else:
        existing.state = DayCloseState.closed
        existing.figures = frozen
        existing.closed_by = caller.actor
        existing.closed_at = now
    session.flush()
    audit.record(
        session,
        caller,
        "day.close",
        subject=f"day:{store_id}:{day.isoformat()}:{staff_id or 'store'}",
        after={k: frozen[k] for k in ("sales_minor", "refunds_minor", "expected_cash_minor")},
    )
    return existing


def reopen(
    session: Session,
    caller: Caller,
    *,
    store_id: int,
    day: date,
    staff_id: int | None,
    reason: str,
) -> DayClose:
    """Reopen a closed day (a store manager of the store, or an admin), with a reason."""
    roles.require(caller, "store.day_reopen")
    roles.ensure_same_store(caller, store_id)
    why = reason.strip()
    if not why:
        raise InvalidInputError("Reopening a day needs a reason")
    closed = repository.day_close(session, store_id, day, staff_id, for_update=True)
    if closed is None or closed.state is not DayCloseState.closed:
        raise roles.NotFoundError()
    before = {"state": closed.state.value, "figures": closed.figures}
    closed.state = DayCloseState.reopened
    closed.reopened_by = caller.actor
    closed.reopened_at = clock.now()
    closed.reopen_reason = why
    session.flush()
    audit.record(
        session,
        caller,
        "day.reopen",
        subject=f"day:{store_id}:{day.isoformat()}:{staff_id or 'store'}",
        reason=why,
        before=before,
        after={"state": closed.state.value},
    )
    return closed


def ensure_open(session: Session, store_id: int, staff_id: int, day: date) -> None:
    """409 when the clerk's day, or the store's, is closed: no more sales on it."""
    for who in (staff_id, None):
        closed = repository.day_close(session, store_id, day, who)
        if closed is not None and closed.state is DayCloseState.closed:
            raise DayClosedError("This day is closed; a store manager can reopen it")
