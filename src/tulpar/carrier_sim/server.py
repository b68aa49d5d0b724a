"""Running the simulator: in the foreground (``tulpar carrier-sim``), inside another asyncio
loop (``tulpar demo``), or on a background thread (tests and benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from tulpar.carrier_sim.app import create_app
from tulpar.carrier_sim.book import Book
from tulpar.carrier_sim.settings import SimulatorSettings


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (``port=0``: a free one), handed to uvicorn so no port can race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    url: str
    book: Book


@contextmanager
def app_in_thread(app: FastAPI, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = bind_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the HTTP server did not start")
        time.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def simulator_in_thread(
    settings: SimulatorSettings, *, clock: Callable[[], float] = time.monotonic
) -> Iterator[RunningSimulator]:
    """The simulator on a free loopback port in a thread; ``clock`` times its outage windows
    and completion delays (monotonic seconds)."""
    book = Book(settings, clock=clock)
    with app_in_thread(create_app(settings, book=book)) as url:
        yield RunningSimulator(url=url, book=book)


class _EmbeddedServer(uvicorn.Server):
    """Leaves signals to the host process (``tulpar demo`` runs its own server beside us)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def embedded_server(settings: SimulatorSettings) -> uvicorn.Server:
    """A server to run inside another program's event loop: stop it with ``should_exit``."""
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    return _EmbeddedServer(config)


async def serve(settings: SimulatorSettings, *, sock: socket.socket) -> None:
    """Serve in the foreground until SIGINT/SIGTERM."""
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])
