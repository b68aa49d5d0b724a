"""Payments stuck in an unknown state (no webhook, or the start call failed), and refunds
left ``pending`` with no webhook, are asked about again: claim in one transaction, call the
provider with none open, record in another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tulpar.db import transaction
from tulpar.integrations.payments.protocol import ProviderError, ProviderPayment
from tulpar.integrations.payments.registry import provider_for
from tulpar.payment import refunds, repository
from tulpar.payment import service as payment_service

BATCH = 100
GIVE_UP_AFTER = timedelta(days=1)
# A refund may stay pending at the provider for days (bank transfers); past this, support is
# told (once), and the provider is still asked now and then.
REFUND_REPORT_AFTER = timedelta(days=5)


@dataclass(frozen=True, slots=True)
class _Stuck:
    payment_id: int
    provider: str
    reference: str | None


def run(
    *, now: datetime, quiet_for: timedelta, factory: sessionmaker[Session] | None = None
) -> dict[str, int]:
    with transaction(factory) as session:
        stuck = [
            _Stuck(p.id, p.provider.value, p.provider_reference)
            for p in repository.claim_stuck(
                session,
                now=now,
                quiet_for=quiet_for,
                created_after=now - GIVE_UP_AFTER,
                limit=BATCH,
            )
        ]
        for item in stuck:
            repository.touch(session, item.payment_id, now=now)
    counts = {"asked": 0, "started": 0, "unreachable": 0}
    for item in stuck:
        try:
            if item.reference is None:
                _start(item, factory)
                counts["started"] += 1
            else:
                answer = provider_for(item.provider).get_payment(item.reference)
                _record(item, answer, factory)
                counts["asked"] += 1
        except ProviderError:
            counts["unreachable"] += 1
    return counts


def _start(item: _Stuck, factory: sessionmaker[Session] | None) -> None:
    with transaction(factory) as session:
        pending = payment_service.provider_request(session, item.payment_id)
    if pending is None:
        return
    outcome = payment_service.call_provider(pending.request, pending.provider)
    with transaction(factory) as session:
        payment_service.record_start(session, item.payment_id, outcome)


def _record(item: _Stuck, answer: ProviderPayment, factory: sessionmaker[Session] | None) -> None:
    with transaction(factory) as session:
        payment_service.apply_status(session, item.payment_id, answer, source="requery")


@dataclass(frozen=True, slots=True)
class _PendingRefund:
    refund_id: int
    provider: str
    reference: str | None
    overdue: bool


def run_refunds(
    *, now: datetime, quiet_for: timedelta, factory: sessionmaker[Session] | None = None
) -> dict[str, int]:
    """Ask about ``pending`` refunds not heard of for ``quiet_for`` (more as they age)."""
    with transaction(factory) as session:
        pending = [
            _PendingRefund(
                refund.id,
                payment.provider.value,
                refund.provider_reference,
                overdue=refund.created_at <= now - REFUND_REPORT_AFTER,
            )
            for refund, payment in repository.claim_pending_refunds(
                session, now=now, quiet_for=quiet_for, limit=BATCH
            )
        ]
        for item in pending:
            repository.touch_refund(session, item.refund_id, now=now)
            if item.overdue:
                refunds.report_unsettled(session, item.refund_id, days=REFUND_REPORT_AFTER.days)
    counts = {"refunds_asked": 0, "refunds_settled": 0, "refunds_unreachable": 0}
    for item in pending:
        if item.reference is None:
            continue  # nothing to ask by; its webhook carries our key
        try:
            answer = provider_for(item.provider).get_refund(item.reference)
        except ProviderError:
            counts["refunds_unreachable"] += 1
            continue
        counts["refunds_asked"] += 1
        with transaction(factory) as session:
            counts["refunds_settled"] += refunds.record_answer(session, item.refund_id, answer)
    return counts
