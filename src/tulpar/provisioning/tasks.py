"""Provisioning jobs. ``provisioning.apply`` makes one carrier call per run, outside any write
transaction; ``provisioning.handle_callback`` settles a stored callback; ``provisioning.sweep``
puts back work a dead worker left behind."""

from __future__ import annotations

import asyncio

import structlog
from procrastinate import JobContext, RetryStrategy
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

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
@app.task(name="provisioning.sweep", queueing_lock="provisioning.sweep", pass_context=True)
async def sweep(context: JobContext, timestamp: int) -> None:
    """Every minute: give back provisioning jobs held by dead workers (their card lock would
    block the card's later renewals), then re-queue provisionings whose job went missing."""
    released = await release_stalled(context.app.job_manager)
    requeued = await asyncio.to_thread(_requeue_overdue)
    if released or requeued:
        log.warning("provisioning.recovered", released=released, requeued=requeued)


async def release_stalled(manager: JobManager, *, seconds_since_heartbeat: float = 60) -> int:
    """Put ``provisioning.apply`` jobs of workers that stopped beating back in the queue."""
    stalled = await manager.get_stalled_jobs(
        task_name=APPLY_TASK, seconds_since_heartbeat=seconds_since_heartbeat
    )
    released = 0
    for job in stalled:
        assert job.id is not None
        try:
            await manager.retry_job(job)
        except Exception:  # another job of this order already waits: this one is redundant
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
        released += 1
    return released


def _requeue_overdue() -> int:
    with transaction() as session:
        return service.requeue_overdue(session, now=clock.now())
