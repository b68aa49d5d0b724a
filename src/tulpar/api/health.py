from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tulpar.kit.session import DbSession
from tulpar.migrations_runner import head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(session: DbSession) -> JSONResponse:
    """The database answers and its schema is at the newest migration."""
    try:
        current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)
    expected = head_revision()
    if current != expected:
        return JSONResponse(
            {"status": "unavailable", "reason": "migrations", "current": current, "head": expected},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "migration": current})
