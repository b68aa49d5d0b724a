"""/readyz names each failing check: no worker heartbeat, a queue that does not drain."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

NO_WORK = "TRUNCATE procrastinate_workers, procrastinate_jobs CASCADE"


@pytest.fixture
def quiet(session: Session) -> Session:
    """No worker and no job, in the test's rolled-back transaction."""
    session.execute(text(NO_WORK))
    session.commit()
    return session


def _beat(session: Session, seconds_ago: float) -> None:
    session.execute(
        text(
            "INSERT INTO procrastinate_workers (last_heartbeat)"
            " VALUES (now() - make_interval(secs => :ago))"
        ),
        {"ago": seconds_ago},
    )
    session.commit()


def _job(session: Session, *, due_seconds_ago: float) -> None:
    session.execute(
        text(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, scheduled_at)"
            " VALUES ('default', 'order.expire_abandoned', now() - make_interval(secs => :ago))"
        ),
        {"ago": due_seconds_ago},
    )
    session.commit()


def test_not_ready_without_a_worker_heartbeat(client: TestClient, quiet: Session) -> None:
    ready = client.get("/readyz")

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["last_heartbeat_seconds_ago"] is None
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] is True
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_stale_heartbeat_is_no_worker(
    client: TestClient, quiet: Session, configure: Callable[..., None]
) -> None:
    configure(ready_worker_heartbeat_seconds=30)
    _beat(quiet, seconds_ago=45)

    ready = client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["failing"] == ["worker"]
    assert ready.json()["checks"]["worker"]["last_heartbeat_seconds_ago"] == pytest.approx(
        45, abs=1
    )


def test_ready_with_a_beating_worker_and_a_draining_queue(
    client: TestClient, quiet: Session
) -> None:
    _beat(quiet, seconds_ago=45)
    _beat(quiet, seconds_ago=1)
    _job(quiet, due_seconds_ago=5)  # waiting a little: under the threshold
    _job(quiet, due_seconds_ago=-600)  # scheduled for later: not due, not late

    ready = client.get("/readyz")

    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["queue_lag"]["oldest_due_job_waiting_seconds"] == pytest.approx(5, abs=1)


def test_overdue_jobs_are_named_as_queue_lag(
    client: TestClient, quiet: Session, configure: Callable[..., None]
) -> None:
    configure(ready_queue_lag_seconds=60)
    _beat(quiet, seconds_ago=0)
    _job(quiet, due_seconds_ago=300)

    ready = client.get("/readyz")

    assert ready.status_code == 503
    body = ready.json()
    assert body["failing"] == ["queue_lag"]
    assert body["checks"]["queue_lag"]["oldest_due_job_waiting_seconds"] == pytest.approx(
        300, abs=1
    )
    assert body["checks"]["queue_lag"]["threshold_seconds"] == 60


def test_a_job_just_deferred_counts_from_its_deferral(client: TestClient, quiet: Session) -> None:
    _beat(quiet, seconds_ago=0)
    quiet.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'order.expire_abandoned',"
            " 0, NULL, NULL, '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1])"
        )
    )
    quiet.commit()

    ready = client.get("/readyz")

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["queue_lag"]["oldest_due_job_waiting_seconds"] == 0
