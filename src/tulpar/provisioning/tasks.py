"""``provisioning.sweep`` re-queues provisionings whose job went missing (jobs of dead workers
in general are given back by :mod:`tulpar.job_recovery`). The ``provisioning.apply`` job
itself is fulfilment's: it moves the order."""

from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.provisioning import service

log = structlog.get_logger()


@app.periodic(cron="* * * * *", periodic_id="provisioning.sweep")
@app.task(name="provisioning.sweep", queueing_lock="provisioning.sweep", pass_context=False)
def sweep(timestamp: int) -> None:
    """Every minute: re-queue provisionings that are overdue because their job went missing."""
    requeued = _requeue_overdue()
    if requeued:
        log.warning("provisioning.recovered", requeued=requeued)


def _requeue_overdue() -> int:
    with transaction() as session:
        return service.requeue_overdue(session, now=clock.now())
