"""The last word on a failure nobody handled: a database that is down or unreachable is 503
problem JSON with ``Retry-After``, anything else 500 problem JSON — never a plain-text 500.

:mod:`tulpar.kit.load_shedding` already answers the database failures of the routes; this
handler sits outermost (Starlette's server-error middleware), so it also answers those met by
any middleware outside it, and a job deferral whose connection died (procrastinate wraps
psycopg's error in its own). The exception is still raised after the answer, for the server's
log. Pooled connections that died are discarded by SQLAlchemy when the error is met (a
disconnect invalidates the pool), so the app recovers by itself once the database is back."""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc

from tulpar.kit.problems import problem


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database cannot be reached now."""
    seen: BaseException | None = error
    for _ in range(5):  # a short chain of causes
        if seen is None:
            return False
        if isinstance(seen, exc.TimeoutError):  # no pooled connection came in time
            return True
        if isinstance(seen, exc.DBAPIError) and (
            seen.connection_invalidated or isinstance(seen, exc.OperationalError)
        ):
            return True
        if isinstance(seen, psycopg.OperationalError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def install(app: FastAPI, *, retry_after_seconds: int) -> None:
    @app.exception_handler(Exception)
    async def unhandled(request: Request, error: Exception) -> JSONResponse:
        if is_database_outage(error):
            response = problem(
                status=503,
                code="database_unavailable",
                title="Database unavailable",
                detail="Try again shortly",
                instance=request.url.path,
            )
            response.headers["Retry-After"] = str(retry_after_seconds)
            return response
        return problem(
            status=500,
            code="internal_error",
            title="Internal error",
            detail="Something went wrong on our side; it has been logged",
            instance=request.url.path,
        )
