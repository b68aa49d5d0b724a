from __future__ import annotations

import structlog

from tulpar.db import transaction
from tulpar.jobs import app
from tulpar.rating import service

log = structlog.get_logger()


@app.task(name="rating.threshold_crossed", pass_context=False)
def threshold_crossed(event_id: int) -> None:
    """A bundle's data use reached 75, 90 or 100 %. For now it is logged; the notification
    work turns it into an SMS (deduplicated on the event id)."""
    with transaction() as session:
        event = service.threshold_event(session, event_id)
    if event is None:
        return
    log.info(
        "rating.threshold_crossed",
        event_id=event.id,
        card_id=event.card_id,
        bundle_id=event.bundle_id,
        threshold_percent=event.threshold_percent,
        crossed_at=event.crossed_at.isoformat(),
    )
