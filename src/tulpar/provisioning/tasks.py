"""Provisioning jobs. ``provisioning.apply`` makes one carrier call per run, outside any write
transaction; ``provisioning.handle_callback`` settles a stored callback; ``provisioning.sweep``
re-queues provisionings whose job went missing (jobs of dead workers in general are given back
by :mod:`tulpar.job_recovery`)."""

from __future__ import annotations

import structlog
from procrastinate import RetryStrategy

from tulpar import clock
from tulpar.config import get_settings
from tulpar.db import transaction
from tulpar.integrations.carrier import get_carrier
from tulpar.integrations.carrier.protocol import CarrierResponse, CarrierUnavailableError
from tulpar.jobs import app
from tulpar.models import CarrierCall
from tulpar.provisioning import callbacks, service
from tulpar.provisioning.settlement import APPLY_TASK

log = structlog.get_logger()


# A crash (a deadlock, a lost connection) retries the whole job: it starts by reloading state
# and asks the carrier again with the same reference, so a retry never applies twice.
_RETRY = RetryStrategy(max_attempts=5, exponential_wait=1)


@app.task(name=APPLY_TASK, pass_context=False, retry=_RETRY)
def apply(order_id: int) -> None:
    """Ask the carrier to apply (or report on) a paid renewal's bundle and act on the answer."""
    with transaction() as session:
        planned = service.begin_call(session, order_id, now=clock.now())
    if planned is None:
        return
    answer, error = call_carrier(planned)
    with transaction() as session:
        outcome = service.record_answer(
            session, planned, answer=answer, error=error, now=clock.now()
        )
    log.info(
        "provisioning.call",
        order_id=order_id,
        call=planned.call.value,
        status=answer.status.value if answer else "unavailable",
        outcome=outcome.value,
    )


def call_carrier(planned: service.PlannedCall) -> tuple[CarrierResponse | None, str | None]:
    """The network step: no transaction is open here."""
    carrier = get_carrier()
    timeout = get_settings().carrier_timeout_seconds
    try:
        if planned.call is CarrierCall.get_status:
            return carrier.get_status(planned.reference, timeout=timeout), None
        return carrier.apply_bundle(planned.request, timeout=timeout), None
    except CarrierUnavailableError as error:
        return None, str(error)[:500]
    except Exception as error:
        # An adapter bug must not loop outside the retry window: count it as "unavailable",
        # so the order is retried, then refunded with a ticket like any other outage.
        log.exception("provisioning.adapter_error", order_id=planned.order_id)
        return None, f"adapter error: {type(error).__name__}: {error}"[:500]


@app.task(name=callbacks.HANDLE_TASK, pass_context=False, retry=_RETRY)
def handle_callback(callback_id: int) -> None:
    with transaction() as session:
        outcome = callbacks.handle(session, callback_id)
    log.info("provisioning.callback", callback_id=callback_id, outcome=outcome and outcome.value)


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
