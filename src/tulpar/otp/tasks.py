from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.otp import service

log = structlog.get_logger()


@app.periodic(cron="17 * * * *", periodic_id="otp.purge")
@app.task(name="otp.purge", queueing_lock="otp.purge", pass_context=False)
def purge(timestamp: int) -> None:
    """Hourly: forget OTP challenges and traveller tokens that ended over a day ago."""
    with transaction() as session:
        removed = service.purge(session, now=clock.now())
    log.info("otp.purged", removed=removed)
