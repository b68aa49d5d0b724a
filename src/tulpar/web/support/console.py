"""Support console pages: search, an order with its timeline and actions, a card with its
actions, the ticket queue (overdue first) and a ticket. Every decision is the services'
(tulpar.fulfilment.support_actions, tulpar.support.tickets), on the signed-in caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response

from tulpar.errors import InvalidInputError
from tulpar.fulfilment import refunds, support_actions
from tulpar.kit.languages import LANGUAGES
from tulpar.kit.session import DbSession
from tulpar.models import TicketStatus
from tulpar.support import tickets
from tulpar.wallet import service as wallet_service
from tulpar.web.staff.pages import StaffPageRoute, redirect
from tulpar.web.support.pages import SessionCsrf, Staff, render

router = APIRouter(prefix="/support", route_class=StaffPageRoute, include_in_schema=False)
CSRF = [SessionCsrf]

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Reason = Annotated[str, Form(max_length=500)]


def _amount(raw: str, *, allow_empty: bool = False) -> int | None:
    """A whole number of minor units (tiyn), optionally signed."""
    text = raw.strip().replace(" ", "")
    if not text and allow_empty:
        return None
    body = text.removeprefix("-").removeprefix("+")
    if not body.isdigit() or len(body) > 15:
        raise InvalidInputError("Give the amount as a whole number of minor units")
    return int(text)


@router.get("")
def search_page(request: Request, session: DbSession, page: Staff) -> Response:
    query = request.query_params.get("q", "")[:80]
    found = support_actions.search(session, page.caller, query) if query.strip() else None
    return render(request, "search.html", page=page, query=query, found=found)


@router.get("/orders/{order_id}")
def order_page(order_id: Id, request: Request, session: DbSession, page: Staff) -> Response:
    order = support_actions.order_for(session, page.caller, order_id)
    return render(
        request,
        "order.html",
        page=page,
        order=order,
        refundable=refunds.refundable(session, order),
        timeline=support_actions.order_timeline(session, order),
    )


@router.post("/orders/{order_id}/refund", dependencies=CSRF)
def refund_order(
    order_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    support_actions.refund(
        session,
        page.caller,
        order_id,
        amount_minor=_amount(amount, allow_empty=True),
        reason=reason,
    )
    return redirect(request, f"/support/orders/{order_id}")


@router.post("/orders/{order_id}/retry", dependencies=CSRF)
def retry_order(
    order_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
) -> Response:
    support_actions.retry_provisioning(session, page.caller, order_id, reason=reason)
    return redirect(request, f"/support/orders/{order_id}")


@router.post("/orders/{order_id}/cancel", dependencies=CSRF)
def cancel_order(
    order_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
) -> Response:
    support_actions.cancel(session, page.caller, order_id, reason=reason)
    return redirect(request, f"/support/orders/{order_id}")


@router.get("/cards/{card_id}")
def card_page(card_id: Id, request: Request, session: DbSession, page: Staff) -> Response:
    card = support_actions.card_for(session, page.caller, card_id)
    return render(
        request,
        "card.html",
        page=page,
        card=card,
        wallet=wallet_service.balance(session, card_id=card.id),
        bundle=support_actions.current_bundle(session, card),
        timeline=support_actions.card_timeline(session, card),
        languages=LANGUAGES,
    )


@router.post("/cards/{card_id}/wallet", dependencies=CSRF)
def card_wallet(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    support_actions.credit_wallet(
        session, page.caller, card_id, amount_minor=_amount(amount) or 0, reason=reason
    )
    return redirect(request, f"/support/cards/{card_id}")


@router.post("/cards/{card_id}/allowance", dependencies=CSRF)
def card_allowance(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
    account: Annotated[str, Form(max_length=8)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    support_actions.adjust_allowance(
        session, page.caller, card_id, account=account, delta=_amount(amount) or 0, reason=reason
    )
    return redirect(request, f"/support/cards/{card_id}")


@router.post("/cards/{card_id}/suspend", dependencies=CSRF)
def card_suspend(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
) -> Response:
    support_actions.suspend(session, page.caller, card_id, reason=reason)
    return redirect(request, f"/support/cards/{card_id}")


@router.post("/cards/{card_id}/unsuspend", dependencies=CSRF)
def card_unsuspend(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
) -> Response:
    support_actions.unsuspend(session, page.caller, card_id, reason=reason)
    return redirect(request, f"/support/cards/{card_id}")


@router.post("/cards/{card_id}/resend", dependencies=CSRF)
def card_resend(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
) -> Response:
    support_actions.resend_confirmation(session, page.caller, card_id, reason=reason)
    return redirect(request, f"/support/cards/{card_id}")


@router.post("/cards/{card_id}/language", dependencies=CSRF)
def card_language(
    card_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    support_actions.change_language(session, page.caller, card_id, language=language, reason=reason)
    return redirect(request, f"/support/cards/{card_id}")


@router.get("/tickets")
def ticket_queue(request: Request, session: DbSession, page: Staff) -> Response:
    rows = tickets.queue(session, page.caller, include_done=request.query_params.get("all") == "1")
    return render(request, "tickets.html", page=page, rows=rows)


@router.get("/tickets/{ticket_id}")
def ticket_page(ticket_id: Id, request: Request, session: DbSession, page: Staff) -> Response:
    ticket = tickets.get(session, page.caller, ticket_id)
    history = support_actions.ticket_history(session, ticket)
    return render(
        request,
        "ticket.html",
        page=page,
        ticket=ticket,
        overdue=tickets.is_overdue(ticket),
        moves=sorted(tickets.MOVES[ticket.status]),
        history=history,
    )


@router.post("/tickets/{ticket_id}/reply", dependencies=CSRF)
def ticket_reply(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    tickets.reply(session, page.caller, ticket_id, text=text)
    return redirect(request, f"/support/tickets/{ticket_id}")


@router.post("/tickets/{ticket_id}/note", dependencies=CSRF)
def ticket_note(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    tickets.note(session, page.caller, ticket_id, text=text)
    return redirect(request, f"/support/tickets/{ticket_id}")


@router.post("/tickets/{ticket_id}/assign", dependencies=CSRF)
def ticket_assign(ticket_id: Id, request: Request, session: DbSession, page: Staff) -> Response:
    """Take the ticket (assign it to oneself)."""
    tickets.assign(
        session, page.caller, ticket_id, staff_id=page.caller.staff_id or 0, name=page.caller.actor
    )
    return redirect(request, f"/support/tickets/{ticket_id}")


@router.post("/tickets/{ticket_id}/move", dependencies=CSRF)
def ticket_move(
    ticket_id: Id,
    request: Request,
    session: DbSession,
    page: Staff,
    reason: Reason = "",
    to: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        status = TicketStatus(to)
    except ValueError as error:
        raise InvalidInputError("Choose a status") from error
    tickets.move(session, page.caller, ticket_id, to=status, reason=reason)
    return redirect(request, f"/support/tickets/{ticket_id}")
