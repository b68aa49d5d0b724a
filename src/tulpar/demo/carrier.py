"""The demo's carrier: the simulator on a free loopback port, completing bundles by signed
callback after a short delay and emitting usage so balances move. Tulpar is pointed at it
through the environment (``TULPAR_CARRIER_URL``, ``TULPAR_CARRIER_CALLBACK_SECRET``)."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy.orm import Session

from tulpar.carrier_sim.server import bind_socket, embedded_server, url_of
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.config import get_settings
from tulpar.demo import seed

DEMO_CARRIER = "Demo Carrier (simulator)"


@dataclass(frozen=True, slots=True)
class DemoCarrier:
    url: str
    settings: SimulatorSettings
    sock: socket.socket
    server: uvicorn.Server

    async def serve(self) -> None:
        await self.server.serve(sockets=[self.sock])

    def stop(self) -> None:
        """Ask the simulator to finish (graceful: its background tasks end cleanly)."""
        self.server.should_exit = True


def carrier_key(session: Session, key_file: Path) -> str:
    """A key with the ``carrier`` scope for the simulator's usage records, kept across runs."""
    return seed.persisted_key(session, key_file, partner=DEMO_CARRIER, scope="carrier")


def prepare(
    *, tulpar_url: str, usage_key: str, usage_interval_seconds: float = 30.0
) -> DemoCarrier:
    """Bind the simulator's port and point this process's settings at it."""
    secret = os.environ.get("TULPAR_CARRIER_CALLBACK_SECRET") or secrets.token_urlsafe(32)
    sock = bind_socket("127.0.0.1", 0)
    url = url_of(sock)
    os.environ["TULPAR_CARRIER_URL"] = url
    os.environ["TULPAR_CARRIER_CALLBACK_SECRET"] = secret
    get_settings.cache_clear()
    settings = SimulatorSettings(
        latency_ms=0,
        callback_url=f"{tulpar_url}/carrier/callbacks",
        callback_secret=secret,
        completion_delay_ms=1500,  # long enough to watch the order page move
        usage_url=f"{tulpar_url}/v1/usage-records",
        usage_key=usage_key,
        usage_interval_seconds=usage_interval_seconds,
    )
    return DemoCarrier(url=url, settings=settings, sock=sock, server=embedded_server(settings))
