"""``/dev/outbox``: every SMS the ``outbox`` provider "sent", newest first (demo mode only)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tulpar.kit.session import DbSession
from tulpar.notification import service

router = APIRouter(tags=["development"], include_in_schema=False)

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "pages"),
    autoescape=select_autoescape(default=True),
)


@router.get("/dev/outbox", response_class=HTMLResponse)
def outbox(session: DbSession, limit: int = 100) -> HTMLResponse:
    notifications = service.newest(session, limit=max(1, min(limit, 500)))
    return HTMLResponse(_pages.get_template("outbox.html").render(notifications=notifications))
