from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from pathlib import Path

import typer
import uvicorn

from tulpar.app import create_app
from tulpar.cli.common import console, errors, exit_normally_on_sigterm, refuse_unsafe_environment
from tulpar.config import get_settings
from tulpar.db import get_sessionmaker, libpq_url, transaction
from tulpar.demo import carrier as demo_carrier
from tulpar.demo import seed
from tulpar.demo import staff as demo_staff
from tulpar.kit import heap
from tulpar.kit.forwarded import SERVER_OPTIONS
from tulpar.migrations_runner import upgrade
from tulpar.worker import run_worker


def demo(
    port: int = typer.Option(8000, help="Port for the web app"),
    data_dir: Path | None = typer.Option(None, help="Where the embedded database lives"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    seed_only: bool = typer.Option(False, help="Prepare the database and exit"),
) -> None:
    """The main job: migrate, load demo data, run web + worker, print where to look."""
    refuse_unsafe_environment(simulator="demo")
    listener = None if seed_only else _listen(host, port)
    if data_dir is not None:
        os.environ["TULPAR_DATA_DIR"] = str(data_dir.expanduser().resolve())
    base = f"http://{host}:{port}"
    local_base = f"http://127.0.0.1:{port}" if host in ("0.0.0.0", "::") else base
    # Receipt QR links and sandbox payment webhooks must point at this very server.
    os.environ.setdefault("TULPAR_PUBLIC_BASE_URL", local_base)
    get_settings.cache_clear()
    settings = get_settings()
    with console.status("starting the database and applying migrations…"):
        upgrade(libpq_url())
    with transaction(get_sessionmaker()) as session:
        seed.seed(session)
        key = seed.demo_partner_key(session, settings.data_dir / "demo-partner-key.txt")
        carrier_key = demo_carrier.carrier_key(session, settings.data_dir / "demo-carrier-key.txt")
        staff = demo_staff.seed_staff(session)
    carrier = demo_carrier.prepare(tulpar_url=local_base, usage_key=carrier_key)
    cards = "\n".join(
        f"  {demo.label:<26} ICCID {demo.iccid}   phone {demo.msisdn}" for demo in seed.DEMO_CARDS
    )
    console.rule("[bold]Tulpar demo is ready")
    console.print(
        (
            f"data in {settings.data_dir}\n\n"
            f"  traveller     {base}/   (renew a card in Chinese; the SMS code is on the outbox)\n"
            f"                card expiring soon: {seed.expiring_demo_card().msisdn}"
            f"  (ICCID {seed.expiring_demo_card().iccid})\n"
            f"  API docs      {base}/docs\n"
            f"  health        {base}/healthz   ready: {base}/readyz\n"
            f"  plans         {base}/v1/plans\n"
            f"  SMS outbox    {base}/dev/outbox\n"
            f"  carrier sim   {carrier.url}/_sim/state\n\n"
            f"Staff sign-in   {base}/staff/sign-in   (store {staff.store_code})\n"
            f"  admin  {staff.admin_username} / {staff.admin_password}"
            f"   TOTP secret {staff.admin_totp_secret} (add it to an authenticator app)\n"
            f"  clerk  {staff.clerk_username} / {staff.clerk_password}\n\n"
            f"Partner API key:\n  {key}\n\n"
            f"Demo cards:\n{cards}\n\n"
            f"Try:\n  curl -H 'Authorization: Bearer {key}' \\\n"
            f"       {base}/v1/cards/{seed.DEMO_CARDS[0].iccid}/balance\n\n"
            "Ctrl-C stops everything."
        ),
        soft_wrap=True,
        highlight=False,
    )
    if listener is None:
        return
    exit_normally_on_sigterm()
    with listener:
        asyncio.run(_run_web_and_worker(listener, host=host, port=port, carrier=carrier))


def _listen(host: str, port: int) -> socket.socket:
    """Take the web port first: a busy port fails here, before the database is touched or a
    banner promises a server that cannot start. The web app is then served on this socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            problem = (
                f"port {port} on {host} is already in use (another `tulpar demo`?);"
                " stop that or choose another port: --port N (make demo PORT=N)"
            )
        else:
            problem = f"cannot listen on {host}:{port}: {error.strerror or error}"
        errors.print(f"[red]error:[/red] {problem}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None


def _job_slots() -> int:
    """Jobs the demo's worker runs at once: two per CPU, as jobs mostly wait on the network
    and the database (within the loop's default executor: CPUs + 4 threads), 2 to 8. One web
    server is enough for a demo; `tulpar serve --workers N` and `tulpar worker` scale out."""
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


async def _run_web_and_worker(
    listener: socket.socket, *, host: str, port: int, carrier: demo_carrier.DemoCarrier
) -> None:
    # host and port only label uvicorn's log lines; it serves on the listener.
    app = create_app()
    heap.settle()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="info",
            log_config=None,
            **SERVER_OPTIONS,  # the app decides which proxies to trust
        )
    )
    worker_task = asyncio.create_task(run_worker(concurrency=_job_slots()))
    carrier_task = asyncio.create_task(carrier.serve())
    try:
        await server.serve(sockets=[listener])
    finally:
        carrier.stop()
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(carrier_task, timeout=5)
