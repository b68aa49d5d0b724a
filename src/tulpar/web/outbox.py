"""``/dev/outbox``: every SMS the ``outbox`` provider "sent", newest first (demo mode only)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tulpar.kit.session import DbSession
from tulpar.kit.templates import page_environment
from tulpar.notification import service

router = APIRouter(tags=["development"], include_in_schema=False)

# A developer's page, in English; times are Kazakhstan's, as everywhere we show them.
_pages = page_environment(Path(__file__).parent / "pages", "en")


@router.get("/dev/outbox", response_class=HTMLResponse)
def outbox(session: DbSession, limit: int = 100) -> HTMLResponse:
    notifications = service.newest(session, limit=max(1, min(limit, 500)))
    return HTMLResponse(_pages.get_template("outbox.html").render(notifications=notifications))
