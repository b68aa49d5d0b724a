from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

import typer
import uvicorn

from tulpar import worker as worker_module
from tulpar.cli.common import exit_normally_on_sigterm, refuse_unsafe_environment, schema_required
from tulpar.db import libpq_url
from tulpar.kit import heap, metrics
from tulpar.kit.forwarded import SERVER_OPTIONS

if TYPE_CHECKING:
    from fastapi import FastAPI

# uvicorn imports the app in each of its processes (``--workers``): a factory, called there.
APP_FACTORY = "tulpar.cli.serve:served_app"


def served_app() -> FastAPI:
    """The app as ``tulpar serve`` runs it: built, then its heap settled (``kit.heap``)."""
    from tulpar.app import create_app  # only in the web processes, not in every command

    app = create_app()
    heap.settle()
    return app


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(
        1, min=1, help="Web processes sharing the port (each with its own connection pool)"
    ),
) -> None:
    """Run the web app and API (no worker; start `tulpar worker` beside it)."""
    refuse_unsafe_environment()
    exit_normally_on_sigterm()
    # Resolves the database first (and starts the embedded server, when that is the one), so
    # web processes never race to start it and it lives as long as this supervisor.
    libpq_url()
    if workers > 1 and metrics.multiprocess_dir() is None:
        # The processes share one port, so any one answers a scrape: they sum their metrics
        # through files in this fresh directory (prometheus_client's multiprocess mode).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tulpar-metrics-")
    # log_config=None: uvicorn's lines go through Tulpar's logging (redacted, JSON in production).
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=None,
        **SERVER_OPTIONS,  # the app decides which proxies to trust (TULPAR_TRUSTED_PROXIES)
    )


def worker(
    concurrency: int = typer.Option(4, min=1, help="Jobs run at once (threads in this process)"),
) -> None:
    """Run background jobs (procrastinate), including periodic ones."""
    refuse_unsafe_environment()
    with schema_required():
        worker_module.main(concurrency=concurrency)
