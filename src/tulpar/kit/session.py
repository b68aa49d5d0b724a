"""A request's database session.

``DbSession``: one transaction per request, committed after the handler returns and before
the response is sent, or rolled back on any error. ``read_only``: a request that only reads
runs all its database work in one thread step, outside any transaction.

Both take a turn first (:mod:`tulpar.kit.load_shedding`), which is what keeps a request
from ever waiting for a connection. Why it matters: FastAPI runs every sync dependency and a
sync handler each in its own step in the shared thread pool, and a session holds its
connection from its first statement to its close. A request between two steps then holds a
connection while it waits for a thread, while other threads wait for a connection: with more
requests than threads and connections together, all wait until the pool times out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from sqlalchemy import exc
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tulpar.db import reading
from tulpar.kit.load_shedding import database_turn

T = TypeVar("T")


async def get_session(request: Request) -> AsyncIterator[Session]:
    async with database_turn(request).turn():
        # Opening a session does no I/O (its connection comes with the first statement).
        session: Session = request.app.state.sessionmaker()
        try:
            yield session
        except BaseException:
            await _in_own_thread(_end, session, commit=False)
            raise
        await _in_own_thread(_end, session, commit=True)


DbSession = Annotated[Session, Depends(get_session, scope="function")]


async def _in_own_thread(end: Callable[..., None], session: Session, *, commit: bool) -> None:
    # The request holds a connection: it must not queue for the shared thread pool (FastAPI
    # does the same for the exit of sync dependencies). Shielded: a cancelled request still
    # ends its transaction.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(
            lambda: end(session, commit=commit), limiter=anyio.CapacityLimiter(1)
        )


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def read_only(request: Request, work: Callable[[Session], T]) -> T:
    """``work(session)`` in one thread step, with a session that reads outside any
    transaction (no BEGIN, no COMMIT) and writes nothing. A connection that died while idle
    in the pool fails on its first statement; reading is safe to repeat, once, on a fresh
    one."""
    async with database_turn(request).turn():
        return await run_in_threadpool(_read, _reading_factory(request.app), work)


def _read(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    try:
        with factory() as session:
            return work(session)
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with factory() as session:
        return work(session)


def _reading_factory(app: FastAPI) -> sessionmaker[Session]:
    factory: sessionmaker[Session] | None = getattr(app.state, "reading_sessionmaker", None)
    if factory is None:
        factory = app.state.reading_sessionmaker = reading(app.state.sessionmaker)
    return factory
