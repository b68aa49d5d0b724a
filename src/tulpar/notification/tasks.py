from __future__ import annotations

import procrastinate
import structlog
from sqlalchemy.orm import Session, sessionmaker

from tulpar.db import get_sessionmaker, transaction
from tulpar.integrations.sms import SmsProviderError, get_provider
from tulpar.jobs import app
from tulpar.notification import service

log = structlog.get_logger()


def deliver(factory: sessionmaker[Session], notification_id: int) -> None:
    """Submit one queued notification exactly once.

    Read (short transaction) → provider call with no transaction open, keyed by the
    notification id so a retried run is deduplicated by the provider → record (only a
    still-queued row moves). Transient provider errors propagate so the job is retried."""
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
                final=error.permanent,
                provider=provider.name,
            )
        if error.permanent:
            log.warning("notification.failed", notification_id=notification_id, error=str(error))
            return
        raise
    with transaction(factory) as session:
        service.record_sent(session, notification_id, receipt)


@app.task(
    name="notification.send",
    pass_context=False,
    retry=procrastinate.RetryStrategy(max_attempts=8, exponential_wait=2),
)
def send(notification_id: int) -> None:
    """Send one queued SMS through the configured provider (idempotent)."""
    deliver(get_sessionmaker(), notification_id)
