"""``tulpar worker``: runs procrastinate jobs, including the periodic ones."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import structlog

from tulpar.db import libpq_url
from tulpar.integrations.carrier.http import close_adapters
from tulpar.integrations.payments.sandbox import close_delivery_client
from tulpar.jobs import app, worker_connector

log = structlog.get_logger()


async def run_worker(
    *, concurrency: int = 4, wait: bool = True, handle_signals: bool = False
) -> None:
    """Run jobs, ``concurrency`` at once, from every queue (highest priority first)."""
    plain_url = libpq_url()
    with app.replace_connector(worker_connector(plain_url)):
        async with app.open_async():
            log.info("worker.started", concurrency=concurrency)
            await app.run_worker_async(
                concurrency=concurrency,
                wait=wait,
                install_signal_handlers=handle_signals,
                # Scheduled retries and polls are picked up within a second, not five.
                fetch_job_polling_interval=1,
            )


async def _standalone(concurrency: int) -> None:
    # Synchronous jobs run on the loop's default executor, which has min(32, CPUs + 4)
    # threads: give it one per job slot, or slots beyond that would wait for a thread.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tulpar-job")
    )
    try:
        await run_worker(concurrency=concurrency, handle_signals=True)
    finally:
        close_delivery_client()
        close_adapters()


def main(concurrency: int = 4) -> None:
    # Standalone: procrastinate turns SIGINT/SIGTERM into a graceful stop (finish running jobs).
    asyncio.run(_standalone(concurrency))
