from __future__ import annotations

import structlog

from tulpar import clock
from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.rating import service
from tulpar.reminder import service as reminder_service

log = structlog.get_logger()


@app.task(name="rating.threshold_crossed", pass_context=False)
def threshold_crossed(event_id: int) -> None:
    """A bundle's data use reached 75, 90 or 100 %: the traveller gets one SMS for it
    (deduplicated on the event; held until 08:00 in the quiet hours; not after STOP)."""
    with transaction() as session:
        event = service.threshold_event(session, event_id)
        if event is None:
            return
        reminder_service.data_threshold_reached(
            session,
            event_id=event.id,
            card_id=event.card_id,
            threshold_percent=event.threshold_percent,
            now=clock.now(),
        )
    log.info(
        "rating.threshold_crossed",
        event_id=event.id,
        card_id=event.card_id,
        bundle_id=event.bundle_id,
        threshold_percent=event.threshold_percent,
        crossed_at=event.crossed_at.isoformat(),
    )
