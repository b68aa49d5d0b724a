"""``tulpar worker``: runs procrastinate jobs, including the periodic ones."""

from __future__ import annotations

import asyncio

import structlog

from tulpar.db import libpq_url
from tulpar.jobs import app, worker_connector

log = structlog.get_logger()


async def run_worker(
    *, concurrency: int = 4, wait: bool = True, handle_signals: bool = False
) -> None:
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


def main(concurrency: int = 4) -> None:
    # Standalone: procrastinate turns SIGINT/SIGTERM into a graceful stop (finish running jobs).
    asyncio.run(run_worker(concurrency=concurrency, handle_signals=True))
