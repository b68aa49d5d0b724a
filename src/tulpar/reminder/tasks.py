from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.reminder import service

log = structlog.get_logger()


@app.periodic(cron="* * * * *", periodic_id="reminder.schedule")
@app.task(name="reminder.schedule", queueing_lock="reminder.schedule", pass_context=False)
def schedule(timestamp: int) -> None:
    """Every minute: queue the expiry and grace reminders due now (not in quiet hours)."""
    with transaction() as session:
        result = service.run_pass(session, now=clock.now())
    log.info("reminder.schedule", quiet=result.quiet, batch_full=result.batch_full, **result.queued)


@app.task(name=service.DATA_THRESHOLD_TASK, pass_context=False)
def data_threshold(event_id: int, card_id: int, threshold_percent: int) -> None:
    """A data-threshold SMS held back by the quiet hours, run from 08:00 local."""
    with transaction() as session:
        service.data_threshold_reached(
            session,
            event_id=event_id,
            card_id=card_id,
            threshold_percent=threshold_percent,
            now=clock.now(),
        )
