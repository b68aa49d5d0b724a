"""Defect 1 (in process, as the demo runs its worker): a PostgreSQL restart does not stop
background jobs; the worker reconnects with backoff and runs the jobs queued after it."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from tests.resilience.embedded import embedded_server, settings_on
from tulpar.api.health import readiness
from tulpar.config import get_settings
from tulpar.db import build_engine, libpq_url, transaction
from tulpar.jobs import defer_in_transaction
from tulpar.worker import Backoff, run_worker

DEADLINE_SECONDS = 45


def _test_sessions() -> sessionmaker[Session]:
    """The test's own connections (none pooled: they are not under test here)."""
    return sessionmaker(build_engine(libpq_url(), poolclass=NullPool))


def _defer() -> int:
    with transaction(_test_sessions()) as session:
        return defer_in_transaction(session, "order.expire_abandoned", timestamp=0)


def _status(job_id: int) -> str | None:
    with _test_sessions()() as session:
        status: str | None = session.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        ).scalar()
        return status


async def _until_succeeded(job_id: int, worker: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while await asyncio.to_thread(_status, job_id) != "succeeded":
        assert not worker.done(), f"the worker stopped: {worker}"
        assert time.monotonic() < deadline, f"job {job_id} not run in time"
        await asyncio.sleep(0.1)


def test_the_worker_runs_jobs_queued_after_a_database_restart() -> None:
    with (
        embedded_server() as server,
        settings_on(server, worker_reconnect_initial_seconds=0.1, worker_reconnect_max_seconds=1),
    ):

        async def scenario() -> None:
            worker = asyncio.create_task(run_worker(concurrency=2))
            try:
                await _until_succeeded(await asyncio.to_thread(_defer), worker)
                await asyncio.to_thread(server.stop)
                await asyncio.sleep(0)  # let the worker see its connections close
                await asyncio.to_thread(server.start)
                await _until_succeeded(await asyncio.to_thread(_defer), worker)
                assert not worker.done()
                checks = await asyncio.to_thread(readiness, _test_sessions(), get_settings())
                assert checks["worker"]["ok"], checks  # the restarted worker beats
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)

        asyncio.run(scenario())


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_long_run() -> None:
    backoff = Backoff(0.5, 4)

    assert [backoff.after(0) for _ in range(5)] == [0.5, 1, 2, 4, 4]
    assert backoff.after(10) == 0.5
    assert backoff.after(0) == 1
