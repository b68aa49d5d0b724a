from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from procrastinate import RetryStrategy

from tulpar import clock
from tulpar.config import get_settings
from tulpar.db import transaction
from tulpar.integrations.payments import sandbox
from tulpar.integrations.payments.protocol import ProviderError, RefundRequest
from tulpar.integrations.payments.registry import provider_for, sandbox_secret
from tulpar.jobs import app
from tulpar.payment import inbox, refunds, requery

log = structlog.get_logger()

# A pending refund is first asked about after this long without its webhook.
REFUND_QUIET_FOR = timedelta(minutes=15)
_BACKOFF = RetryStrategy(max_attempts=refunds.REFUND_ATTEMPTS, exponential_wait=2)


@app.task(name="payment.process_webhook", pass_context=False, retry=_BACKOFF)
def process_webhook(webhook_event_id: int) -> None:
    """Handle one stored webhook; a second run finds it handled and returns."""
    with transaction() as session:
        outcome = inbox.process(session, webhook_event_id)
    log.info("payment.webhook_processed", webhook_event_id=webhook_event_id, outcome=outcome)


@app.task(name="payment.refund", pass_context=False, retry=_BACKOFF)
def refund(refund_id: int) -> None:
    """Send a recorded refund to its provider (no transaction open meanwhile) and record the
    answer. Idempotent on the refund's own key, so a retry after a crash is harmless."""
    with transaction() as session:
        pending = refunds.refund_to_send(session, refund_id)
    if pending is None:
        return
    try:
        answer = provider_for(pending.provider).refund(
            RefundRequest(
                idempotency_key=pending.idempotency_key,
                payment_reference=pending.payment_reference,
                amount_minor=pending.amount_minor,
                currency=pending.currency,
                reason=pending.reason,
            )
        )
    except ProviderError as error:
        with transaction() as session:
            refunds.count_refund_failure(session, refund_id, error)
        raise
    with transaction() as session:
        refunds.record_answer(session, refund_id, answer)


@app.task(name="payment.deliver_sandbox_webhook", pass_context=False, retry=_BACKOFF)
def deliver_sandbox_webhook(event: dict[str, Any], url: str) -> None:
    """The sandbox provider posting one signed event to Tulpar (loopback in the demo)."""
    sandbox.deliver(event, url=url, secret=sandbox_secret())


@app.periodic(cron="* * * * *", periodic_id="payment.requery_stuck")
@app.task(name="payment.requery_stuck", queueing_lock="payment.requery_stuck", pass_context=False)
def requery_stuck(timestamp: int) -> None:
    """Every minute: ask the provider about payments we have not heard of for a while, and
    about refunds left pending with no webhook."""
    now = clock.now()
    quiet_for = timedelta(seconds=get_settings().payment_requery_after_seconds)
    counts = requery.run(now=now, quiet_for=quiet_for)
    counts |= requery.run_refunds(now=now, quiet_for=REFUND_QUIET_FOR)
    if any(counts.values()):
        log.info("payment.requery_stuck", **counts)
