"""Jobs a dead worker left in ``doing`` go back to the queue.

Every task is idempotent (it reloads state by id and returns quietly when the work is done),
so running a stalled job again is always safe. Without this, a worker killed mid-job would
leave its SMS unsent, its refund unmade and, for provisioning, its card lock held forever."""

from __future__ import annotations

import structlog
from procrastinate import JobContext
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from tulpar.jobs import app

log = structlog.get_logger()

# Workers beat every 10 s (procrastinate's default); a minute of silence means it is gone.
STALLED_AFTER_SECONDS = 60


async def release_stalled(
    manager: JobManager, *, seconds_since_heartbeat: float = STALLED_AFTER_SECONDS
) -> int:
    """Put every job of workers that stopped beating back in the queue; returns how many."""
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        assert job.id is not None
        try:
            await manager.retry_job(job)
        except Exception:  # its queueing lock is taken: the same work already waits
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
    return len(stalled)


@app.periodic(cron="* * * * *", periodic_id="jobs.release_stalled")
@app.task(name="jobs.release_stalled", queueing_lock="jobs.release_stalled", pass_context=True)
async def release_stalled_task(context: JobContext, timestamp: int) -> None:
    """Every minute: give back the jobs of dead workers."""
    released = await release_stalled(context.app.job_manager)
    if released:
        log.warning("jobs.released_stalled", released=released)
