"""Requests that find no turn to use the database are answered 503 with ``Retry-After`` within
the bounded wait; requests that never touch the database are not counted. The pool and the
turns follow the server's thread count unless set."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tulpar import db
from tulpar.config import Settings
from tulpar.kit.load_shedding import DatabaseTurns


def test_with_no_turn_free_a_database_request_is_shed_fast(client: TestClient) -> None:
    client.app.state.database_turns = DatabaseTurns(0, wait_seconds=0.05)  # type: ignore[attr-defined]

    started = time.monotonic()
    shed = client.get("/v1/plans")
    balance = client.get("/v1/cards/8999702000000000014/balance")
    elapsed = time.monotonic() - started

    assert elapsed < 2
    for response in (shed, balance):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "https://tulpar.kz/problems/overloaded",
            "title": "Too busy",
            "status": 503,
            "detail": "The service is busy; try again shortly",
            "code": "overloaded",
            "instance": response.request.url.path,
        }
    assert client.get("/healthz").status_code == 200


def test_pool_and_turns_default_to_the_thread_count() -> None:
    derived = Settings(web_threads=12)
    assert db.pool_options(derived) == {
        "pool_size": 12,
        "max_overflow": 0,
        "pool_timeout": 2.0,
        "pool_recycle": 1800,
    }
    assert derived.requests_in_flight == 12

    chosen = Settings(web_threads=12, db_pool_size=30, db_requests_in_flight=0)
    assert chosen.pool_size == 30
    assert chosen.requests_in_flight is None  # 0: no limit
    assert Settings(web_threads=12, db_pool_size=30).requests_in_flight == 30
