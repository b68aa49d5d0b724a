"""The jobs whose outcome moves orders: provisioning a paid renewal, handling inbox
messages, sending refunds and asking providers again. Each reloads its state, returns quietly
when the work is done already, and makes no network call with a transaction open."""

from __future__ import annotations

from datetime import timedelta

import structlog
from procrastinate import RetryStrategy

from tulpar import clock
from tulpar.config import get_settings
from tulpar.db import transaction
from tulpar.fulfilment import inbox, paid, provisioning, requery
from tulpar.fulfilment.refunds import on_refund
from tulpar.inbox import service as inbox_service
from tulpar.integrations.payments.protocol import ProviderError, RefundRequest
from tulpar.integrations.payments.registry import provider_for
from tulpar.jobs import app, expose_job_id, running_job_id
from tulpar.notification import service as notification_service
from tulpar.notification import tasks as notification_tasks
from tulpar.payment import refunds
from tulpar.payment.refunds import RefundReport
from tulpar.provisioning import service as provisioning_service
from tulpar.provisioning.service import PlannedCall
from tulpar.provisioning.settlement import APPLY_TASK

log = structlog.get_logger()

# A crash (a deadlock, a lost connection) retries the whole job: it starts by reloading state
# and asks the carrier again with the same reference, so a retry never applies twice.
_RETRY = RetryStrategy(max_attempts=5, exponential_wait=1)
_BACKOFF = RetryStrategy(max_attempts=refunds.REFUND_ATTEMPTS, exponential_wait=2)
# A pending refund is first asked about after this long without its webhook.
REFUND_QUIET_FOR = timedelta(minutes=15)


@app.task(name=APPLY_TASK, pass_context=False, retry=_RETRY)
def apply(order_id: int) -> None:
    """Ask the carrier to apply (or report on) a paid renewal's bundle and act on the answer."""
    with transaction() as session:
        planned = provisioning.begin(session, order_id, now=clock.now())
    if planned is not None:
        _call_and_record(planned)


@app.task(
    name=inbox_service.HANDLE_TASK,
    pass_context=False,
    retry=_RETRY,
    task_middleware=[expose_job_id],
)
def handle_inbox_message(message_id: int) -> None:
    """Handle one stored message; a second run finds it handled and returns. A renewal the
    message pays is provisioned by this job itself when its card is free (one job less,
    and no wait in the queue), otherwise queued as ``provisioning.apply``."""
    job_id = running_job_id()
    with transaction() as session:
        in_line = None if job_id is None else paid.InLineProvisioning(job_id)
        outcome = inbox.handle(session, message_id, in_line=in_line)
        if outcome is None and in_line is not None:
            paid.resume_in_line(session, in_line)  # handled by an earlier run that died
    log.info("inbox.handled", message_id=message_id, outcome=outcome)
    for planned in [] if in_line is None else in_line.calls:
        try:
            _call_and_record(planned)
        except Exception:
            # The order goes on in its own job (asking the carrier again with the same
            # reference), with that job's retries, rather than in this job's.
            with transaction() as session:
                provisioning_service.queue_again(session, planned.order_id, now=clock.now())
            raise


def _call_and_record(planned: PlannedCall) -> None:
    """The carrier call of ``planned`` (no transaction open), then its answer recorded."""
    answer, error = provisioning_service.call_carrier(planned)
    with transaction() as session, notification_service.sending_in_line(session) as sms:
        outcome = provisioning.record_answer(
            session, planned, answer=answer, error=error, now=clock.now()
        )
    notification_tasks.send_in_line(sms)
    log.info(
        "provisioning.call",
        order_id=planned.order_id,
        call=planned.call.value,
        status=answer.status.value if answer else "unavailable",
        outcome=outcome.value,
    )


@app.periodic(cron="* * * * *", periodic_id="inbox.requeue_unhandled")
@app.task(
    name="inbox.requeue_unhandled", queueing_lock="inbox.requeue_unhandled", pass_context=False
)
def requeue_unhandled(timestamp: int) -> None:
    """Every minute: messages that lost their job are queued again."""
    with transaction() as session:
        requeued = inbox_service.requeue_unhandled(session, now=clock.now())
    if requeued:
        log.warning("inbox.requeued", requeued=requeued)


@app.task(name="payment.refund", pass_context=False, retry=_BACKOFF)
def refund(refund_id: int) -> None:
    """Send a recorded refund to its provider (no transaction open meanwhile) and act on the
    answer. Idempotent on the refund's own key, so a retry after a crash is harmless."""
    with transaction() as session:
        pending = refunds.refund_to_send(session, refund_id)
        if isinstance(pending, RefundReport):  # a wallet refund: done at once
            on_refund(session, pending)
            return
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
            gave_up = refunds.count_refund_failure(session, refund_id, error)
            if gave_up is not None:
                on_refund(session, gave_up)
        raise
    with transaction() as session:
        report = refunds.record_answer(session, refund_id, answer)
        if report is not None:
            on_refund(session, report)


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
