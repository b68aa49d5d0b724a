from __future__ import annotations

import procrastinate
import structlog

from tulpar.barring import service
from tulpar.db import transaction
from tulpar.integrations.carrier import get_carrier
from tulpar.jobs import app

log = structlog.get_logger()

CARRIER_TIMEOUT_SECONDS = 10.0
_RETRY = procrastinate.RetryStrategy(max_attempts=12, exponential_wait=2)


@app.task(name="carrier.bar_service", retry=_RETRY, pass_context=False)
def bar_service(bar_id: int) -> None:
    """Tell the carrier to bar a card that ran out; nothing to do if already lifted."""
    with transaction() as session:
        call = service.bar_call(session, bar_id)
    if call is None:
        return
    # No transaction is open while the carrier is called.
    response = get_carrier().bar_service(
        reference=call.reference,
        iccid=call.iccid,
        reason=call.reason,
        timeout=CARRIER_TIMEOUT_SECONDS,
    )
    with transaction() as session:
        service.record_answer(session, bar_id, response, restoring=False)
    log.info("carrier.bar_service", bar_id=bar_id, status=response.status.value)


@app.task(name="carrier.restore_service", retry=_RETRY, pass_context=False)
def restore_service(bar_id: int) -> None:
    """Tell the carrier to restore a card's service after a renewal lifted its bar."""
    with transaction() as session:
        call = service.restore_call(session, bar_id)
    if call is None:
        return
    response = get_carrier().restore_service(
        reference=call.reference, iccid=call.iccid, timeout=CARRIER_TIMEOUT_SECONDS
    )
    with transaction() as session:
        service.record_answer(session, bar_id, response, restoring=True)
    log.info("carrier.restore_service", bar_id=bar_id, status=response.status.value)
