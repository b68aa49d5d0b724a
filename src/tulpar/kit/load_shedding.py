"""Shedding load instead of queueing it: at most N requests use the database at once, each
holding at most one pooled connection, so no request ever waits for a connection. One more
waits a bounded time for its turn, then gets a fast 503 problem with ``Retry-After``; so do
requests that meet a dead connection or a database that is down. Nobody waits 30 seconds.

A turn is taken where a request opens its session (:mod:`tulpar.kit.session`), not per path:
requests that never touch the database (``/healthz``) are not counted, and a turn ends when
the session closes, before the response is sent to a slow client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import exc
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tulpar.config import Settings
from tulpar.kit.problems import problem


class DatabaseBusyError(Exception):
    """No turn to use the database came within the bounded wait."""


class DatabaseTurns:
    """At most ``limit`` holders at once (None: no limit); a newcomer waits ``wait_seconds``
    at most, first come first served."""

    def __init__(self, limit: int | None, *, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        # One semaphore per event loop: a test client may start its own loops.
        self._semaphores: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.limit is None:
            yield
            return
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        if semaphore.locked():
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await semaphore.acquire()
            except TimeoutError:
                raise DatabaseBusyError() from None
        else:
            await semaphore.acquire()  # free: returns at once
        try:
            yield
        finally:
            semaphore.release()


def database_turn(connection: HTTPConnection) -> DatabaseTurns:
    turns: DatabaseTurns | None = getattr(connection.app.state, "database_turns", None)
    return turns or _UNLIMITED


_UNLIMITED = DatabaseTurns(None, wait_seconds=0)


def _refusal(error: BaseException) -> tuple[str, str, str] | None:
    """(code, title, detail) of a failure answered 503, or None for any other failure."""
    if isinstance(error, DatabaseBusyError | exc.TimeoutError):  # TimeoutError: pool checkout
        return "overloaded", "Too busy", "The service is busy; try again shortly"
    if isinstance(error, exc.DBAPIError) and (
        error.connection_invalidated or isinstance(error, exc.OperationalError)
    ):
        return "database_unavailable", "Database unavailable", "Try again shortly"
    return None


class LoadSheddingMiddleware:
    """Answers the failures of :func:`_refusal` with 503 and ``Retry-After`` (if no response
    was started), and sizes the thread pool when the server starts."""

    def __init__(self, app: ASGIApp, *, retry_after_seconds: int, threads: int) -> None:
        self.app = app
        self.retry_after = str(retry_after_seconds)
        self.threads = threads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._sizing_threads_on_startup(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as error:
            refusal = _refusal(error)
            if refusal is None or started:
                raise
            code, title, detail = refusal
            response = problem(
                status=503, code=code, title=title, detail=detail, instance=scope["path"]
            )
            response.headers["Retry-After"] = self.retry_after
            await response(scope, receive, send)

    def _sizing_threads_on_startup(self, receive: Receive) -> Receive:
        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
            return message

        return receiving


def install(app: FastAPI, settings: Settings) -> None:
    app.state.database_turns = DatabaseTurns(
        settings.requests_in_flight, wait_seconds=settings.db_request_wait_seconds
    )
    app.add_middleware(
        LoadSheddingMiddleware,
        retry_after_seconds=settings.retry_after_seconds,
        threads=settings.web_threads,
    )
