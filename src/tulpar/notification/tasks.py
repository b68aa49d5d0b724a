"""Sending notifications, and what an SMPP session is sent back.

Retries: a provider error that is ``permanent`` (the number is invalid, the SMSC refuses the
message) marks the notification failed at once, with the reason. Anything else — a timeout,
throttling that outlasted the provider's own retries, a connection failure, an unexpected
exception — is recorded on the row and the job is retried with exponential backoff
(2 s, 4 s, … 512 s: about 17 minutes over 9 runs); the last run marks it failed. Either way a
failed message is visible with its error, never left queued."""

from __future__ import annotations

import procrastinate
import structlog
from sqlalchemy.orm import Session, sessionmaker

from tulpar.config import get_settings
from tulpar.db import get_sessionmaker, transaction
from tulpar.integrations.sms import (
    DeliveryReport,
    InboundSms,
    SmsProvider,
    SmsProviderError,
    get_provider,
)
from tulpar.integrations.sms.smpp import SmppProvider
from tulpar.jobs import app, cancel_waiting_in_transaction
from tulpar.notification import inbound, service
from tulpar.notification.service import InLineSms

log = structlog.get_logger()


SEND_ATTEMPTS = 8


def store_arrival(arrival: DeliveryReport | InboundSms) -> None:
    """The SMPP session's sink: one receipt or text stored in the inbox in its own
    transaction, before the SMSC gets its deliver_sm_resp."""
    with transaction(get_sessionmaker()) as session:
        inbound.store(session, arrival)


def provider() -> SmsProvider:
    return get_provider(on_inbound=store_arrival)


def deliver(
    factory: sessionmaker[Session], notification_id: int, *, last_attempt: bool = False
) -> None:
    """Submit one queued notification exactly once.

    Read (short transaction) → :func:`submit`. Transient errors propagate so the job is
    retried; on the ``last_attempt`` the message is marked failed instead of staying queued
    forever."""
    with transaction(factory) as session:
        pending = service.pending_sms(session, notification_id)
    if pending is not None:
        submit(factory, pending, last_attempt=last_attempt)


def submit(
    factory: sessionmaker[Session],
    pending: service.PendingSms,
    *,
    last_attempt: bool = False,
    waiting_job_id: int | None = None,
) -> None:
    """The provider call with no transaction open, keyed by the notification id so a repeated
    submission is deduplicated by the provider, then the answer recorded (only a still-queued
    row moves). ``waiting_job_id``: a job that would send it, cancelled in the transaction
    that records a final answer."""
    sender = provider()
    notification_id = pending.notification_id
    try:
        receipt = sender.send(pending.message)
    except Exception as error:
        permanent = isinstance(error, SmsProviderError) and error.permanent
        final = permanent or last_attempt
        text = str(error) if isinstance(error, SmsProviderError) else repr(error)
        with transaction(factory) as session:
            service.record_error(
                session, notification_id, error=text, final=final, provider=sender.name
            )
            if final and waiting_job_id is not None:
                cancel_waiting_in_transaction(session, waiting_job_id, delete=True)
        if final:
            log.warning("notification.failed", notification_id=notification_id, error=text)
            return
        raise
    with transaction(factory) as session:
        service.record_sent(session, notification_id, receipt)
        if waiting_job_id is not None:
            cancel_waiting_in_transaction(session, waiting_job_id, delete=True)


def send_in_line(queued: list[InLineSms]) -> None:
    """Send SMS whose transaction has committed, from the job that committed it (see
    ``service.sending_in_line``), each one's waiting job cancelled as its answer is recorded.
    One that fails is left to that job, with its error recorded: it runs
    ``IN_LINE_SAFETY_DELAY`` after queueing, with the usual retries."""
    factory = get_sessionmaker()
    for sms in queued:
        try:
            submit(factory, sms.pending, waiting_job_id=sms.job_id)
        except Exception as error:  # the caller's own work is done: never fail it for an SMS
            log.warning(
                "notification.in_line_failed",
                notification_id=sms.pending.notification_id,
                error=repr(error),
            )


@app.task(
    name="notification.send",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=SEND_ATTEMPTS, exponential_wait=2),
)
def send(context: procrastinate.JobContext, notification_id: int) -> None:
    """Send one queued SMS through the configured provider (idempotent)."""
    assert context.job is not None
    # job.attempts counts the tries before this one; the strategy allows SEND_ATTEMPTS retries.
    last_attempt = context.job.attempts >= SEND_ATTEMPTS
    deliver(get_sessionmaker(), notification_id, last_attempt=last_attempt)


@app.task(name="notification.send_nothing", pass_context=False)
def send_nothing(notification_id: int) -> None:
    """The job :func:`tulpar.notification.service.queue_decoy_sms` defers: nothing to send."""


@app.periodic(cron="* * * * *", periodic_id="notification.keep_smpp_bound")
@app.task(
    name="notification.keep_smpp_bound",
    queueing_lock="notification.keep_smpp_bound",
    pass_context=False,
)
def keep_smpp_bound(timestamp: int) -> None:
    """Every minute, with the ``smpp`` provider: make sure a worker holds a bind, so receipts
    and travellers' texts arrive even while nothing is being sent."""
    if get_settings().sms_provider != "smpp":
        return
    session = provider()
    if isinstance(session, SmppProvider):
        session.start()
