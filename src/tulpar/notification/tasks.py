from __future__ import annotations

import procrastinate
import structlog
from sqlalchemy.orm import Session, sessionmaker

from tulpar.db import get_sessionmaker, transaction
from tulpar.integrations.sms import SmsProviderError, get_provider
from tulpar.jobs import app
from tulpar.notification import service

log = structlog.get_logger()


SEND_ATTEMPTS = 8


def deliver(
    factory: sessionmaker[Session], notification_id: int, *, last_attempt: bool = False
) -> None:
    """Submit one queued notification exactly once.

    Read (short transaction) → provider call with no transaction open, keyed by the
    notification id so a retried run is deduplicated by the provider → record (only a
    still-queued row moves). Transient provider errors propagate so the job is retried; on
    the ``last_attempt`` the message is marked failed instead of staying queued forever."""
    with transaction(factory) as session:
        pending = service.pending_sms(session, notification_id)
    if pending is None:
        return
    provider = get_provider()
    try:
        receipt = provider.send(pending.message)
    except SmsProviderError as error:
        with transaction(factory) as session:
            service.record_error(
                session,
                notification_id,
                error=str(error),
                final=error.permanent or last_attempt,
                provider=provider.name,
            )
        if error.permanent or last_attempt:
            log.warning("notification.failed", notification_id=notification_id, error=str(error))
            return
        raise
    with transaction(factory) as session:
        service.record_sent(session, notification_id, receipt)


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
