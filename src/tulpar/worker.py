"""``tulpar worker``: runs procrastinate jobs, including the periodic ones.

A worker survives its database going away (a restart, a failover): procrastinate stops a
worker whose listener or heartbeat loses its connection, so :func:`run_worker` runs it under
a supervisor that opens a fresh connector after a capped exponential backoff and starts it
again. The jobs it was running when the connection died go back to the queue on restart
(every task is idempotent), and the tasks' own pooled connections are discarded, so the
first job after a restart does not fail on a dead one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

import prometheus_client
import structlog
from procrastinate import signals
from procrastinate.worker import Worker

from tulpar.config import Settings, get_settings
from tulpar.db import get_engine, is_missing_from_schema, libpq_url
from tulpar.integrations.carrier.http import close_adapters
from tulpar.integrations.payments.sandbox import close_delivery_client
from tulpar.job_recovery import release_stalled
from tulpar.jobs import app, worker_connector
from tulpar.kit import heap, metrics
from tulpar.kit.logging import configure_logging

log = structlog.get_logger()


class Backoff:
    """Delays between reconnection attempts: ``initial``, doubling up to ``cap``; back to
    ``initial`` once a run has lasted ``cap`` (it had been connected, not failing at once)."""

    def __init__(self, initial: float, cap: float) -> None:
        self.initial = initial
        self.cap = max(cap, initial)
        self._next = initial

    def after(self, run_seconds: float) -> float:
        if run_seconds >= self.cap:
            self._next = self.initial
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay


async def run_worker(
    *,
    concurrency: int = 4,
    wait: bool = True,
    handle_signals: bool = False,
    settings: Settings | None = None,
) -> None:
    """Run jobs, ``concurrency`` at once, from every queue (highest priority first), until
    stopped (SIGINT/SIGTERM when ``handle_signals``, or cancelling the task) or, with
    ``wait=False``, until no job is left. Losing the database is not a stop: the worker
    reconnects with backoff and carries on."""
    supervisor = _Supervisor(settings or get_settings(), concurrency=concurrency, wait=wait)
    with signals.on_stop(supervisor.stop) if handle_signals else contextlib.nullcontext():
        await supervisor.run()


class _Supervisor:
    def __init__(self, settings: Settings, *, concurrency: int, wait: bool) -> None:
        self.settings = settings
        self.concurrency = concurrency
        self.wait = wait
        self.plain_url = libpq_url(settings)
        self.backoff = Backoff(
            settings.worker_reconnect_initial_seconds, settings.worker_reconnect_max_seconds
        )
        self.stopping = asyncio.Event()
        self.worker: Worker | None = None
        # Workers of this process that could not unregister (the database was gone).
        self.stale_worker_ids: set[int] = set()

    def stop(self) -> None:
        self.stopping.set()
        if self.worker is not None:
            self.worker.stop()  # type: ignore[no-untyped-call]

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self._run_once()
            except Exception as error:  # the database, or the way to it, went away
                if is_missing_from_schema(error):
                    raise  # not an outage: reconnecting cannot fix it (run `tulpar db upgrade`)
                log.warning("worker.connection_lost", error=f"{type(error).__name__}: {error}")
            else:
                # A clean end: asked to stop, out of jobs (wait=False), or procrastinate
                # stopped it because its listener or heartbeat lost the connection.
                if self.stopping.is_set() or not self.wait:
                    return
                log.warning("worker.stopped_by_itself")
            if self.stopping.is_set():
                return
            delay = self.backoff.after(time.monotonic() - started)
            log.warning("worker.reconnecting", in_seconds=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            if self.stopping.is_set():
                return

    async def _run_once(self) -> None:
        """One procrastinate worker on a fresh connector, until it ends."""
        settings = self.settings
        with app.replace_connector(worker_connector(self.plain_url)):
            async with app.open_async():
                app.perform_import_paths()  # type: ignore[no-untyped-call]
                await self._recover()
                worker = Worker(
                    app=app,
                    concurrency=self.concurrency,
                    wait=self.wait,
                    install_signal_handlers=False,
                    # Scheduled retries and polls are picked up within a second, not five.
                    fetch_job_polling_interval=1,
                    update_heartbeat_interval=settings.worker_heartbeat_seconds,
                    stalled_worker_timeout=settings.worker_stalled_seconds,
                    worker_middleware=[metrics.count_job],  # jobs by task and outcome
                )
                self.worker = worker
                if self.stopping.is_set():  # a stop came while connecting
                    return
                log.info("worker.started", concurrency=self.concurrency)
                try:
                    await worker.run()  # type: ignore[no-untyped-call]
                finally:
                    self.worker = None
                    if worker.worker_id is not None:
                        self.stale_worker_ids.add(worker.worker_id)

    async def _recover(self) -> None:
        """Before (re)starting: forget this process's workers that could not unregister,
        give back the jobs of dead workers, and drop the tasks' pooled connections (they may
        date from before a database restart)."""
        manager = app.job_manager
        for worker_id in sorted(self.stale_worker_ids):
            await manager.unregister_worker(worker_id)
            self.stale_worker_ids.discard(worker_id)
        seconds = self.settings.worker_stalled_seconds
        await manager.prune_stalled_workers(seconds)
        released = await release_stalled(manager, seconds_since_heartbeat=seconds)
        if released:
            log.warning("jobs.released_stalled", released=released)
        get_engine().dispose()


async def _standalone(concurrency: int) -> None:
    # Synchronous jobs run on the loop's default executor, which has min(32, CPUs + 4)
    # threads: give it one per job slot, or slots beyond that would wait for a thread.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tulpar-job")
    )
    settings = get_settings()
    configure_logging(settings)
    metrics.watch_pool(get_engine())
    if settings.worker_metrics_port is not None:
        # Loopback only: scrape it from the same host (or through an authenticated proxy).
        prometheus_client.start_http_server(settings.worker_metrics_port, addr="127.0.0.1")
    heap.settle()
    try:
        await run_worker(concurrency=concurrency, handle_signals=True)
    finally:
        close_delivery_client()
        close_adapters()


def main(concurrency: int = 4) -> None:
    # Standalone: SIGINT/SIGTERM stop the worker gracefully (it finishes its running jobs).
    asyncio.run(_standalone(concurrency))
