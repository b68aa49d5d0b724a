"""``/healthz``: the process is alive. ``/readyz``: it can do its work — the database answers,
its schema is at the newest migration, a worker is beating (procrastinate's
``procrastinate_workers`` heartbeats) and the queue drains (no due job has waited longer
than a threshold). Each failing check is named in the body; not ready is 503."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tulpar.config import Settings, get_settings
from tulpar.migrations_runner import head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"description": "Ready: every check passes"},
        503: {"description": "Not ready: `failing` names the checks that fail"},
    },
)
def readyz(request: Request) -> JSONResponse:
    """Ready to serve and to get work done: database, migrations, worker heartbeat, queue lag."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    checks = readiness(factory, get_settings())
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks}
    return JSONResponse(body, status_code=503 if failing else 200)


def readiness(factory: sessionmaker[Session], settings: Settings) -> dict[str, dict[str, Any]]:
    """Each check by name: ``ok`` and what it saw."""
    try:
        with factory() as session:
            current = session.execute(_MIGRATION).scalar()
            heartbeat_age, queue_lag = session.execute(_WORK).one()
    except SQLAlchemyError as error:
        cause = type(getattr(error, "orig", None) or error).__name__
        return {"database": {"ok": False, "error": cause}}
    expected = head_revision()
    heartbeat_limit = settings.ready_worker_heartbeat_seconds
    lag_limit = settings.ready_queue_lag_seconds
    return {
        "database": {"ok": True},
        "migrations": {"ok": current == expected, "current": current, "head": expected},
        "worker": {
            "ok": heartbeat_age is not None and heartbeat_age <= heartbeat_limit,
            "last_heartbeat_seconds_ago": _rounded(heartbeat_age),
            "threshold_seconds": heartbeat_limit,
        },
        "queue_lag": {
            "ok": queue_lag is None or queue_lag <= lag_limit,
            "oldest_due_job_waiting_seconds": _rounded(queue_lag),
            "threshold_seconds": lag_limit,
        },
    }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(max(float(seconds), 0.0), 1)


_MIGRATION = text("SELECT version_num FROM alembic_version")

# Ages on the database's clock, as procrastinate writes its heartbeats. A due job has waited
# since it was scheduled for (a retry, a delayed job) or else since it was deferred.
_WORK = text(
    """
    SELECT
      (SELECT EXTRACT(EPOCH FROM now() - max(last_heartbeat)) FROM procrastinate_workers),
      (SELECT EXTRACT(EPOCH FROM now() - min(COALESCE(job.scheduled_at, deferred.at)))
         FROM procrastinate_jobs job
         LEFT JOIN LATERAL (
           SELECT min(event.at) AS at FROM procrastinate_events event
           WHERE event.job_id = job.id AND event.type = 'deferred'
         ) deferred ON true
        WHERE job.status = 'todo' AND (job.scheduled_at IS NULL OR job.scheduled_at <= now()))
    """
)
