"""Page 7, help: ask support about an order (or the card) with a message, and follow the
request's state. Another card's request is "not found"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response

from tulpar.errors import InvalidInputError
from tulpar.kit.session import DbSession
from tulpar.support import service as support_service
from tulpar.web.traveller.pages import PageRoute, check_csrf, redirect, render, traveller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _order_number(raw: str | None) -> int | None:
    text = (raw or "").strip().lstrip("#")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InvalidInputError("An order number is a whole number")
    return int(text)


@router.get("/help")
def help_page(request: Request, session: DbSession) -> Response:
    caller = traveller(session, request)
    tickets = support_service.tickets_for_card(session, caller.card_id or 0)
    order = request.query_params.get("order", "")
    return render(
        request,
        "help.html",
        tickets=list(reversed(tickets)),
        order=order if order.isdigit() else "",
        message="",
        error=None,
    )


@router.post("/help/tickets")
def ask_support(
    request: Request,
    session: DbSession,
    message: Annotated[str, Form(max_length=4000)] = "",
    order: Annotated[str, Form(max_length=24)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    caller = traveller(session, request)
    ticket = support_service.ask(session, caller, message=message, order_id=_order_number(order))
    return redirect(request, f"/help/tickets/{ticket.id}")


@router.get("/help/tickets/{ticket_id}")
def ticket_page(ticket_id: TicketId, request: Request, session: DbSession) -> Response:
    caller = traveller(session, request)
    ticket = support_service.visible_ticket(session, caller, ticket_id)
    return render(
        request,
        "ticket.html",
        ticket=ticket,
        messages=support_service.traveller_messages(ticket),
        replies=support_service.replies(session, ticket),
    )
