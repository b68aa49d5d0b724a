from __future__ import annotations

import typer
import uvicorn

from tulpar import worker as worker_module
from tulpar.app import create_app
from tulpar.cli.common import exit_normally_on_sigterm, schema_required


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
) -> None:
    """Run the web app and API (no worker; start `tulpar worker` beside it)."""
    exit_normally_on_sigterm()
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


def worker(concurrency: int = typer.Option(4, help="Jobs run at once")) -> None:
    """Run background jobs (procrastinate), including periodic ones."""
    with schema_required():
        worker_module.main(concurrency=concurrency)
