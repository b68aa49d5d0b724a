from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.idempotency import service as idempotency
from tulpar.jobs import app
from tulpar.order import service

log = structlog.get_logger()


@app.periodic(cron="* * * * *", periodic_id="order.expire_abandoned")
@app.task(name="order.expire_abandoned", queueing_lock="order.expire_abandoned", pass_context=False)
def expire_abandoned(timestamp: int) -> None:
    """Every minute: orders not paid within the payment window (30 min by default) become
    ``expired``; idempotency keys past their retention are forgotten."""
    now = clock.now()
    with transaction() as session:
        expired = service.expire_abandoned(session, now=now)
        purged = idempotency.purge_expired(session, now=now)
    if expired or purged:
        log.info("order.expire_abandoned", expired=expired, idempotency_keys_purged=purged)
