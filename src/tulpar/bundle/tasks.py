from __future__ import annotations

from dataclasses import asdict

import structlog

from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.db import transaction
from tulpar.jobs import app

log = structlog.get_logger()


@app.periodic(cron="* * * * *", periodic_id="card.lifecycle")
@app.task(name="card.run_lifecycle", queueing_lock="card.run_lifecycle", pass_context=False)
def run_lifecycle(timestamp: int) -> None:
    """Every minute: start queued bundles, expire ended ones, expire and terminate cards."""
    with transaction() as session:
        counts = lifecycle.run(session, now=clock.now())
    log.info("card.lifecycle", **asdict(counts))
