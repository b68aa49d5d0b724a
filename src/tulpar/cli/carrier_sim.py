from __future__ import annotations

import asyncio

import typer

from tulpar.carrier_sim.server import bind_socket, serve, url_of
from tulpar.carrier_sim.settings import Outage, SimulatorSettings
from tulpar.cli.common import console, errors, refuse_unsafe_environment


def carrier_sim(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8100, help="Port to listen on (0: any free port)"),
    latency_ms: float = typer.Option(0.0, help="Added to every answer"),
    failure_rate: float = typer.Option(0.0, help="Share of requests refused temporarily (0-1)"),
    permanent_error_iccid: list[str] = typer.Option(
        [], help="Cards whose bundles always fail permanently (number recycled); repeatable"
    ),
    outage: list[str] = typer.Option(
        [], help="START-END seconds after start during which every call gets 503; repeatable"
    ),
    async_callbacks: str | None = typer.Option(
        None, help="Answer 'pending' and POST a signed callback to this URL when done"
    ),
    callback_secret: str | None = typer.Option(
        None, envvar="TULPAR_CARRIER_CALLBACK_SECRET", help="HMAC secret for the callbacks"
    ),
    completion_delay_ms: float = typer.Option(
        500.0, help="How long a bundle stays pending with --async-callbacks"
    ),
    emit_usage: str | None = typer.Option(None, help="POST usage records to this URL"),
    usage_key: str | None = typer.Option(None, help="API key (carrier scope) for usage records"),
    usage_interval: float = typer.Option(30.0, help="Seconds between usage batches"),
    seed: int | None = typer.Option(None, help="Random seed, for repeatable failures"),
) -> None:
    """Run the carrier simulator: the carrier protocol Tulpar's HTTP adapter speaks."""
    refuse_unsafe_environment(simulator="carrier-sim")
    try:
        settings = SimulatorSettings(
            latency_ms=latency_ms,
            failure_rate=failure_rate,
            permanent_error_iccids=frozenset(permanent_error_iccid),
            outages=tuple(Outage.parse(text) for text in outage),
            callback_url=async_callbacks,
            callback_secret=callback_secret,
            completion_delay_ms=completion_delay_ms,
            usage_url=emit_usage,
            usage_key=usage_key,
            usage_interval_seconds=usage_interval,
            seed=seed,
        )
    except ValueError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    sock = bind_socket(host, port)
    console.print(f"carrier simulator on {url_of(sock)}  (TULPAR_CARRIER_URL={url_of(sock)})")
    try:
        asyncio.run(serve(settings, sock=sock))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
