from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.reports import settlement

log = structlog.get_logger()

# New days settled per transaction: the first settling of a year of data is cut into
# transactions of about a month, each of a few seconds.
NEW_DAYS_PER_TRANSACTION = 31


@app.periodic(cron="*/10 * * * *", periodic_id="reports.settle")
@app.task(name="reports.settle", queueing_lock="reports.settle", pass_context=False)
def settle(timestamp: int) -> None:
    """Every ten minutes: the reports' rollups for the days that have ended, and again for
    the settled days late writes touched."""
    settle_now()


def settle_now() -> settlement.Settled:
    """Open the days that have ended to marking, then settle until no new day is left (or
    the new days wait for older transactions); the last run's result."""
    with transaction() as session:
        settlement.open_days(session, now=clock.now())
    while True:
        with transaction() as session:
            result = settlement.settle(
                session, now=clock.now(), max_new_days=NEW_DAYS_PER_TRANSACTION
            )
        log.info(
            "reports.settle",
            settled_through=result.settled_through,
            new_days=result.new_days,
            dirty_days=result.dirty_days,
            waiting=result.waiting,
        )
        if not result.more:
            return result
