"""Asking providers again about payments stuck in an unknown state (no webhook, or the start
call failed) and about refunds left ``pending``: what to ask about (claimed, so concurrent
runs ask once) and the questions themselves (network, no transaction open)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar.integrations.payments.protocol import ProviderPayment, ProviderRefund
from tulpar.integrations.payments.registry import provider_for
from tulpar.payment import refunds, repository
from tulpar.payment.refunds import RefundReport

BATCH = 100
GIVE_UP_AFTER = timedelta(days=1)
# A refund may stay pending at the provider for days (bank transfers); past this, support is
# told (once), and the provider is still asked now and then.
REFUND_REPORT_AFTER = timedelta(days=5)


@dataclass(frozen=True, slots=True)
class StuckPayment:
    payment_id: int
    provider: str
    reference: str | None  # None: the attempt never reached its provider


def claim_stuck(session: Session, *, now: datetime, quiet_for: timedelta) -> list[StuckPayment]:
    stuck = [
        StuckPayment(p.id, p.provider.value, p.provider_reference)
        for p in repository.claim_stuck(
            session, now=now, quiet_for=quiet_for, created_after=now - GIVE_UP_AFTER, limit=BATCH
        )
    ]
    for item in stuck:
        repository.touch(session, item.payment_id, now=now)
    return stuck


def ask(item: StuckPayment) -> ProviderPayment:
    """The network call. Raises :class:`ProviderError`."""
    assert item.reference is not None
    return provider_for(item.provider).get_payment(item.reference)


@dataclass(frozen=True, slots=True)
class PendingRefund:
    refund_id: int
    provider: str
    reference: str


@dataclass(frozen=True, slots=True)
class ClaimedRefunds:
    to_ask: list[PendingRefund] = field(default_factory=list)
    # Pending for days: a person must look (reported once per order by its ticket).
    overdue_reports: list[RefundReport] = field(default_factory=list)


def claim_pending_refunds(
    session: Session, *, now: datetime, quiet_for: timedelta
) -> ClaimedRefunds:
    """``pending`` refunds not heard of for ``quiet_for`` (longer as they age)."""
    claimed = ClaimedRefunds()
    for refund, payment in repository.claim_pending_refunds(
        session, now=now, quiet_for=quiet_for, limit=BATCH
    ):
        repository.touch_refund(session, refund.id, now=now)
        if refund.created_at <= now - REFUND_REPORT_AFTER:
            report = refunds.report_unsettled(session, refund.id, days=REFUND_REPORT_AFTER.days)
            if report is not None:
                claimed.overdue_reports.append(report)
        # Without the provider's id there is nothing to ask by; its webhook carries our key.
        if refund.provider_reference is not None:
            claimed.to_ask.append(
                PendingRefund(refund.id, payment.provider.value, refund.provider_reference)
            )
    return claimed


def ask_refund(item: PendingRefund) -> ProviderRefund:
    """The network call. Raises :class:`ProviderError`."""
    return provider_for(item.provider).get_refund(item.reference)
