from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.promotion import service

log = structlog.get_logger()


@app.periodic(cron="* * * * *", periodic_id="promotion.release_lapsed")
@app.task(
    name="promotion.release_lapsed", queueing_lock="promotion.release_lapsed", pass_context=False
)
def release_lapsed(timestamp: int) -> None:
    """Every minute: redemptions of orders that expired unpaid or were refunded go back to
    their promotions (placing an order also does this for the promotions it reads, so the
    limits never wait for this sweep)."""
    with transaction() as session:
        released = service.release_lapsed(session, now=clock.now())
    if released:
        log.info("promotion.release_lapsed", released=released)
