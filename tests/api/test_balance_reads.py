"""What a balance read costs the database, seen on the wire: two round trips (the caller's key
and the balance), no BEGIN, no COMMIT, no pre-ping; and a connection that died in the pool
costs a retry, not an error."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card
from tulpar import db
from tulpar.app import create_app
from tulpar.partner import service as partner_service


def seed(factory: sessionmaker[Session]) -> tuple[str, dict[str, str]]:
    with factory() as session:
        card, _ = create_active_card(session)
        _, key = partner_service.create_key(session, "Wire partner", scopes=["partner"])
        partner_service.assign_cards(session, "Wire partner", [card.iccid])
        session.commit()
        return card.iccid, {"Authorization": f"Bearer {key}"}


@contextmanager
def frontend_messages(engine: Engine) -> Iterator[list[str]]:
    """The protocol messages Tulpar sends on the connections it checks out meanwhile."""
    descriptor, path = tempfile.mkstemp()
    messages: list[str] = []

    def trace(dbapi_connection: Any, *_: object) -> None:
        dbapi_connection.pgconn.trace(descriptor)
        dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def untrace(dbapi_connection: Any, *_: object) -> None:
        if dbapi_connection is not None:
            dbapi_connection.pgconn.untrace()

    event.listen(engine, "checkout", trace)
    event.listen(engine, "checkin", untrace)  # after the pool's reset on return
    try:
        yield messages
    finally:
        event.remove(engine, "checkout", trace)
        event.remove(engine, "checkin", untrace)
        os.close(descriptor)
        with open(path) as traced:
            for line in traced:
                direction, *fields = line.split("\t")
                if direction == "F" and len(fields) >= 2:
                    messages.append(fields[1].strip() + " " + " ".join(fields[2:])[:2000])
        os.unlink(path)


def test_a_balance_read_is_two_round_trips_outside_any_transaction(
    committed: sessionmaker[Session],
) -> None:
    iccid, headers = seed(committed)
    with TestClient(create_app()) as client:
        assert client.get(f"/v1/cards/{iccid}/balance", headers=headers).status_code == 200

        # The app's engine: an earlier test in this process may have replaced the suite's.
        with frontend_messages(db.get_engine()) as messages:
            response = client.get(f"/v1/cards/{iccid}/balance", headers=headers)

    assert response.status_code == 200
    assert response.json()["iccid"] == iccid
    kinds = [message.split(" ", 1)[0] for message in messages]
    assert kinds.count("Sync") == 2, messages  # one round trip per statement
    assert "Query" not in kinds, messages  # psycopg's BEGIN / COMMIT / ROLLBACK
    parsed = [message for message in messages if message.startswith("Parse")]
    assert [("FROM api_keys" in p, "FROM cards" in p) for p in parsed] == [
        (True, False),
        (False, True),
    ]


def _kill_pooled_connections(database_url: str) -> None:
    """Terminate every other connection to the test's database, and wait until they are
    gone: a backend told to end exits a moment later, and one still alive would answer."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        pids = [
            pid
            for (pid,) in connection.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        connection.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", [pids])
        for _ in range(1000):
            alive = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
            ).fetchone()
            if alive is not None and alive[0] == 0:
                return
            connection.execute("SELECT pg_sleep(0.01)")
        raise AssertionError(f"backends {pids} did not end")


@pytest.fixture
def own_pool(committed: sessionmaker[Session], engine: Engine) -> Iterator[None]:
    """The tests below count on what the app's pool holds, and kill every connection to the
    database: each starts with an empty pool (an earlier test's connections would be picked
    first, and a stale one is replaced, not failed) and leaves no dead connection behind,
    pass or fail, in the app's pool or in the test harness's (which empties the tables next)."""
    db.get_engine().dispose()
    yield
    db.get_engine().dispose()
    engine.dispose()


@pytest.mark.usefixtures("own_pool")
def test_a_connection_that_died_in_the_pool_is_retried_for_a_read_and_503_otherwise(
    committed: sessionmaker[Session], database_url: str
) -> None:
    iccid, headers = seed(committed)
    with TestClient(create_app()) as client:
        assert client.get(f"/v1/cards/{iccid}/balance", headers=headers).status_code == 200
        _kill_pooled_connections(database_url)

        read = client.get(f"/v1/cards/{iccid}/balance", headers=headers)

        assert read.status_code == 200
        assert client.get("/v1/plans").status_code == 200  # warms the pool again
        _kill_pooled_connections(database_url)

        listed = client.get("/v1/plans")

        assert listed.status_code == 503
        assert listed.headers["Retry-After"] == "1"
        assert listed.json()["code"] == "database_unavailable"
        assert client.get("/v1/plans").status_code == 200


@pytest.mark.usefixtures("own_pool")
def test_a_read_retried_after_a_dead_connection_skips_the_other_dead_ones_in_the_pool(
    committed: sessionmaker[Session], database_url: str
) -> None:
    iccid, headers = seed(committed)
    with TestClient(create_app()) as client:
        assert client.get(f"/v1/cards/{iccid}/balance", headers=headers).status_code == 200
        engine = db.get_engine()
        pooled = [engine.connect() for _ in range(4)]
        for connection in pooled:
            connection.exec_driver_sql("SELECT 1")
        for connection in pooled:
            connection.close()
        _kill_pooled_connections(database_url)

        read = client.get(f"/v1/cards/{iccid}/balance", headers=headers)

        assert read.status_code == 200, read.text
