from __future__ import annotations

import typer
import uvicorn

from tulpar import worker as worker_module
from tulpar.cli.common import exit_normally_on_sigterm, schema_required
from tulpar.db import libpq_url

# uvicorn imports the app in each of its processes (``--workers``): a factory, called there.
APP_FACTORY = "tulpar.app:create_app"


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(
        1, min=1, help="Web processes sharing the port (each with its own connection pool)"
    ),
) -> None:
    """Run the web app and API (no worker; start `tulpar worker` beside it)."""
    exit_normally_on_sigterm()
    # Resolves the database first (and starts the embedded server, when that is the one), so
    # web processes never race to start it and it lives as long as this supervisor.
    libpq_url()
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info")


def worker(
    concurrency: int = typer.Option(4, min=1, help="Jobs run at once (threads in this process)"),
) -> None:
    """Run background jobs (procrastinate), including periodic ones."""
    with schema_required():
        worker_module.main(concurrency=concurrency)
