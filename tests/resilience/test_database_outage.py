"""Defect 7: while the database is down the API answers problem JSON 503 with Retry-After,
and it recovers by itself when the database is back (dead pooled connections are thrown
away, the next request gets a fresh one)."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient
from procrastinate.exceptions import ConnectorException
from sqlalchemy import exc
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.fixtures.factories import create_plan
from tests.resilience.embedded import embedded_server, settings_on
from tulpar.app import create_app
from tulpar.db import get_engine, get_sessionmaker, transaction
from tulpar.partner import service as partner_service

RETRY_AFTER = 7


def _is_outage_problem(response: object) -> bool:
    from httpx import Response

    assert isinstance(response, Response)
    return (
        response.status_code == 503
        and response.headers["content-type"] == "application/problem+json"
        and response.headers["retry-after"] == str(RETRY_AFTER)
        and response.json()["code"] == "database_unavailable"
    )


def test_down_is_503_problem_json_and_back_is_served_without_a_restart() -> None:
    with embedded_server() as server, settings_on(server, retry_after_seconds=RETRY_AFTER):
        with transaction(get_sessionmaker()) as session:
            create_plan(session, code="OUTAGE-7D")
            _, key = partner_service.create_key(session, "Outage partner", scopes=["partner"])
        # The API in a transaction; a page (receipt check) that only reads; an API key check.
        headers = {"Authorization": f"Bearer {key}"}
        requests = [("/v1/plans", {}), ("/verify/abc", {}), ("/v1/orders/1", headers)]
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            up = [client.get(path, headers=sent).status_code for path, sent in requests]
            assert up == [200, 200, 404]
            pool = get_engine().pool
            assert isinstance(pool, QueuePool)
            assert pool.checkedin() >= 1  # connections from before the outage wait in the pool

            server.stop()
            down = [client.get(path, headers=sent) for path, sent in requests]
            ready = client.get("/readyz")
            server.start()

            assert all(_is_outage_problem(response) for response in down), [
                (response.status_code, response.text) for response in down
            ]
            assert ready.status_code == 503
            assert ready.json()["failing"] == ["database"]
            # Back: the same app answers. A request whose pooled connection died may be the
            # one to find out (503, and the pool drops every connection older than it);
            # the next request is served on a fresh connection.
            for (path, sent), status in zip(requests, up, strict=True):
                first = client.get(path, headers=sent)
                assert first.status_code == status or _is_outage_problem(first), first.text
                assert client.get(path, headers=sent).status_code == status
            plans = client.get("/v1/plans").json()["data"]
            assert [plan["code"] for plan in plans] == ["OUTAGE-7D"]


class _OuterMiddleware:
    """A middleware outside the routes' load shedding that meets a dead database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/outer":
            raise exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("down"))
        await self.app(scope, receive, send)


def test_outages_met_outside_the_routes_are_503_and_other_failures_problem_json_500(
    configure: object,
) -> None:
    assert callable(configure)
    configure(retry_after_seconds=RETRY_AFTER)
    app = create_app(sessionmaker())  # these routes use no database

    @app.get("/deferral")
    def deferral() -> None:  # procrastinate wraps psycopg's error in its own
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError as error:
            raise ConnectorException() from error

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    app.add_middleware(_OuterMiddleware)

    with TestClient(app, raise_server_exceptions=False) as client:
        assert _is_outage_problem(client.get("/outer"))
        assert _is_outage_problem(client.get("/deferral"))
        failed = client.get("/bug")

    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["code"] == "internal_error"
    assert "a bug" not in failed.text
