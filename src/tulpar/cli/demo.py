from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import typer
import uvicorn

from tulpar.cli.common import console, exit_normally_on_sigterm
from tulpar.config import get_settings
from tulpar.db import get_sessionmaker, libpq_url, transaction
from tulpar.demo import seed
from tulpar.migrations_runner import upgrade
from tulpar.web.app import create_app
from tulpar.worker import run_worker


def demo(
    port: int = typer.Option(8000, help="Port for the web app"),
    data_dir: Path | None = typer.Option(None, help="Where the embedded database lives"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    seed_only: bool = typer.Option(False, help="Prepare the database and exit"),
) -> None:
    """The main job: migrate, load demo data, run web + worker, print where to look."""
    if data_dir is not None:
        os.environ["TULPAR_DATA_DIR"] = str(data_dir.expanduser().resolve())
        get_settings.cache_clear()
    settings = get_settings()
    with console.status("starting the database and applying migrations…"):
        upgrade(libpq_url())
    with transaction(get_sessionmaker()) as session:
        seed.seed(session)
        key = seed.demo_partner_key(session, settings.data_dir / "demo-partner-key.txt")
    base = f"http://{host}:{port}"
    cards = "\n".join(
        f"  {demo.label:<26} ICCID {demo.iccid}   phone {demo.msisdn}" for demo in seed.DEMO_CARDS
    )
    console.rule("[bold]Tulpar demo is ready")
    console.print(
        (
            f"data in {settings.data_dir}\n\n"
            f"  API docs      {base}/docs\n"
            f"  health        {base}/healthz   ready: {base}/readyz\n"
            f"  plans         {base}/v1/plans\n\n"
            f"Partner API key:\n  {key}\n\n"
            f"Demo cards:\n{cards}\n\n"
            f"Try:\n  curl -H 'Authorization: Bearer {key}' \\\n"
            f"       {base}/v1/cards/{seed.DEMO_CARDS[0].iccid}/balance\n\n"
            "Ctrl-C stops everything."
        ),
        soft_wrap=True,
        highlight=False,
    )
    if seed_only:
        return
    exit_normally_on_sigterm()
    asyncio.run(_run_web_and_worker(host=host, port=port))


async def _run_web_and_worker(*, host: str, port: int) -> None:
    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="info"))
    worker_task = asyncio.create_task(run_worker(concurrency=4))
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
