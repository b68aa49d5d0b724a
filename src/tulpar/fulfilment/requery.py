"""Payments stuck in an unknown state (no webhook, or the start call failed), and refunds left
``pending`` with no webhook, are asked about again: claim in one transaction, call the
provider with none open, act on the answer in another. Each item fails alone
(:mod:`tulpar.kit.sweep`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tulpar.db import transaction
from tulpar.fulfilment.payments import on_payment
from tulpar.fulfilment.refunds import on_refund
from tulpar.integrations.payments.protocol import ProviderError
from tulpar.kit import sweep
from tulpar.payment import refunds, requery
from tulpar.payment import service as payment_service
from tulpar.payment.refunds import RefundOutcome


def run(
    *, now: datetime, quiet_for: timedelta, factory: sessionmaker[Session] | None = None
) -> dict[str, int]:
    """Each stuck payment on its own: one that fails (its provider unreachable, or not
    configured any more, or a bug) is counted and logged, and the others are still asked."""
    with transaction(factory) as session:
        stuck = requery.claim_stuck(session, now=now, quiet_for=quiet_for)
    counts = {"asked": 0, "started": 0, "unreachable": 0}

    def one(item: requery.StuckPayment) -> None:
        try:
            if item.reference is None:
                start_with_provider(item.payment_id, factory)
                counts["started"] += 1
                return
            answer = requery.ask(item)
        except ProviderError:
            counts["unreachable"] += 1
            return
        with transaction(factory) as session:
            report = payment_service.apply_status(
                session, item.payment_id, answer, source="requery"
            )
            on_payment(session, report)
        counts["asked"] += 1

    failed = sweep.for_each(
        "payment.requery_stuck", stuck, one, item_id=lambda item: f"payment {item.payment_id}"
    )
    return counts | ({"failed": failed} if failed else {})


def start_with_provider(payment_id: int, factory: sessionmaker[Session] | None = None) -> bool:
    """Send an attempt that has not reached its provider yet (no transaction open during the
    call) and act on the answer. False when there was nothing to send. Raises
    :class:`ProviderError` when the provider cannot be reached."""
    with transaction(factory) as session:
        pending = payment_service.provider_request(session, payment_id)
    if pending is None:
        return False
    outcome = payment_service.call_provider(pending.request, pending.provider)
    with transaction(factory) as session:
        report = payment_service.record_start(session, payment_id, outcome)
        if report is not None:
            on_payment(session, report)
    return True


def run_refunds(
    *, now: datetime, quiet_for: timedelta, factory: sessionmaker[Session] | None = None
) -> dict[str, int]:
    """Ask about ``pending`` refunds not heard of for ``quiet_for`` (more as they age)."""
    with transaction(factory) as session:
        claimed = requery.claim_pending_refunds(session, now=now, quiet_for=quiet_for)
        for overdue in claimed.overdue_reports:
            on_refund(session, overdue)
    counts = {"refunds_asked": 0, "refunds_settled": 0, "refunds_unreachable": 0}

    def one(item: requery.PendingRefund) -> None:
        try:
            answer = requery.ask_refund(item)
        except ProviderError:
            counts["refunds_unreachable"] += 1
            return
        counts["refunds_asked"] += 1
        with transaction(factory) as session:
            answered = refunds.record_answer(session, item.refund_id, answer)
            if answered is not None:
                on_refund(session, answered)
                counts["refunds_settled"] += answered.outcome is not RefundOutcome.pending

    failed = sweep.for_each(
        "payment.requery_refunds",
        claimed.to_ask,
        one,
        item_id=lambda item: f"refund {item.refund_id}",
    )
    return counts | ({"refunds_failed": failed} if failed else {})
