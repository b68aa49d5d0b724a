"""``tulpar worker``: runs procrastinate jobs, including the periodic ones."""

from __future__ import annotations

import asyncio

import structlog

from tulpar.db import libpq_url
from tulpar.jobs import app, worker_connector

log = structlog.get_logger()


async def run_worker(*, concurrency: int = 4, wait: bool = True) -> None:
    plain_url = libpq_url()
    with app.replace_connector(worker_connector(plain_url)):
        async with app.open_async():
            log.info("worker.started", concurrency=concurrency)
            await app.run_worker_async(
                concurrency=concurrency, wait=wait, install_signal_handlers=False
            )


def main(concurrency: int = 4) -> None:
    asyncio.run(run_worker(concurrency=concurrency))
