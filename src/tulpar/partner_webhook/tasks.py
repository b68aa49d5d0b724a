"""The webhook jobs: ``partner_webhook.dispatch`` (events into deliveries),
``partner_webhook.deliver`` (one endpoint and card, oldest first) and, every minute,
``partner_webhook.tick`` (expiry events, events written by the threshold trigger, and a
backstop for due deliveries)."""

from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.partner_webhook import delivery, queue, service

log = structlog.get_logger()


@app.task(name=queue.DISPATCH_TASK, pass_context=False)
def dispatch() -> None:
    """Create the deliveries of every undispatched event, a batch per transaction."""
    for _ in range(100):
        with transaction() as session:
            picked = service.dispatch(session, now=clock.now())
        if picked < service.BATCH_SIZE:
            return
    with transaction() as session:
        queue.dispatch_soon(session)


@app.task(name=queue.DELIVER_TASK, pass_context=False)
def deliver(endpoint_id: int, card_id: int) -> None:
    """Send the pair's due deliveries in order (network calls with no transaction open)."""
    made = delivery.drain(endpoint_id, card_id, client=delivery.pooled_client())
    log.info("partner_webhook.deliver", endpoint_id=endpoint_id, card_id=card_id, attempts=made)


@app.periodic(cron="* * * * *", periodic_id="partner_webhook.tick")
@app.task(name="partner_webhook.tick", queueing_lock="partner_webhook.tick", pass_context=False)
def tick(timestamp: int) -> None:
    """Every minute: record the expiry events due, dispatch what the threshold trigger
    wrote, and queue any due delivery whose job is not waiting."""
    with transaction() as session:
        now = clock.now()
        expiring = service.record_expiring(session, now=now)
        if service.has_undispatched(session):
            queue.dispatch_soon(session)
        requeued = service.queue_due(session, now=now)
    log.info("partner_webhook.tick", expiring=expiring, requeued=requeued)
