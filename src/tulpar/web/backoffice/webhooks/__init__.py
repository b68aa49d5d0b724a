"""Back office: partner webhooks (support and admin pages on the staff layout): the delivery
log — events newest first, by partner and state, each with its deliveries and their last
answer — an event's page with the body partners receive and every attempt, and, for an
admin, Replay. Every decision is :mod:`tulpar.partner_webhook.service`'s (roles, the replay
guard, the audit); these handlers only read the query and the form and render."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from tulpar.auth import roles
from tulpar.kit.session import DbSession
from tulpar.partner_webhook import service
from tulpar.partner_webhook.service import (
    WebhookEventNotFoundError,
    WebhookReplayImpossibleError,
)
from tulpar.web.backoffice.webhooks.pages import STATIC, render
from tulpar.web.staff.pages import StaffPageRoute, redirect
from tulpar.web.staff.session import StaffPage, require_staff_form, require_staff_page

router = APIRouter(
    prefix="/backoffice/webhooks", route_class=StaffPageRoute, include_in_schema=False
)

Viewer = Annotated[StaffPage, Depends(require_staff_page("webhooks.view"))]
ReplayForm = Annotated[StaffPage, Depends(require_staff_form("webhooks.replay"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Filters as text, so a stale or hand-edited link shows the whole log rather than an error.
Filter = Annotated[str, Query(max_length=20)]
PAGE_SIZE = 50

__all__ = ["router"]


@router.get("/static/{name}")
def static_file(name: Annotated[str, Path(pattern=r"^webhooks\.css$")]) -> Response:
    return FileResponse(
        STATIC / name, media_type="text/css", headers={"Cache-Control": "max-age=300"}
    )


@router.get("")
def log_page(
    request: Request,
    session: DbSession,
    page: Viewer,
    partner: Filter = "",
    state: Filter = "",
    before: Filter = "",
) -> Response:
    partner_id = _id(partner)
    chosen_state = state if state in service.LOG_STATES else None
    log = service.delivery_log(
        session,
        page.caller,
        partner_id=partner_id,
        state=chosen_state,
        before_id=_id(before),
        limit=PAGE_SIZE,
    )
    filters = {"partner": partner_id or "", "state": chosen_state or ""}
    older = None
    if log.older_than is not None:
        older = "/backoffice/webhooks?" + urlencode({**filters, "before": log.older_than})
    return render(
        request,
        "webhooks.html",
        page=page,
        log=log,
        partners=service.partners(session, page.caller),
        partner_id=partner_id,
        state=chosen_state,
        states=service.LOG_STATES,
        older_url=older,
        may_replay=roles.may(page.caller, "webhooks.replay"),
    )


@router.get("/{event_id}")
def event_page(
    event_id: Id, request: Request, session: DbSession, page: Viewer, replayed: Filter = ""
) -> Response:
    return _event_page(
        request, session, page, event_id, replayed=int(replayed) if replayed.isdigit() else None
    )


@router.post("/{event_id}/replay")
def replay(event_id: Id, request: Request, session: DbSession, page: ReplayForm) -> Response:
    try:
        created = service.replay(session, page.caller, event_id)
    except WebhookReplayImpossibleError as refused:
        session.rollback()
        return _event_page(request, session, page, event_id, refused=refused, status_code=409)
    except WebhookEventNotFoundError as missing:
        return render(request, "error.html", page=page, status_code=404, error=missing)
    return redirect(request, f"/backoffice/webhooks/{event_id}?replayed={len(created)}")


def _event_page(
    request: Request,
    session: Session,
    page: StaffPage,
    event_id: int,
    *,
    replayed: int | None = None,
    refused: WebhookReplayImpossibleError | None = None,
    status_code: int = 200,
) -> Response:
    try:
        view = service.event_detail(session, page.caller, event_id)
    except WebhookEventNotFoundError as missing:
        return render(request, "error.html", page=page, status_code=404, error=missing)
    return render(
        request,
        "webhook_event.html",
        page=page,
        status_code=status_code,
        view=view,
        replayed=replayed,
        refused=refused,
        may_replay=roles.may(page.caller, "webhooks.replay"),
    )


def _id(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return int(text) or None
