"""Support tickets: a case about a card or an order, holding a snapshot of its timeline.
The system opens one when something the traveller paid for went wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller, CallerKind
from tulpar.config import get_settings
from tulpar.errors import ForbiddenError, InvalidInputError, TulparError
from tulpar.models import Ticket, TicketEntry, TicketEntryKind, TicketKind, TicketStatus
from tulpar.order import service as order_service
from tulpar.support import repository


def open_ticket(
    session: Session,
    *,
    card_id: int,
    order_id: int | None,
    kind: TicketKind,
    subject: str,
    timeline: Sequence[dict[str, Any]],
    opened_by: str,
) -> Ticket | None:
    """Open a ticket holding ``timeline`` (a snapshot). For an order, at most one ticket of
    each kind ever exists: a repeat returns ``None`` and changes nothing. Never commits."""
    return repository.insert_unless_exists(
        session,
        {
            "card_id": card_id,
            "order_id": order_id,
            "kind": kind,
            "status": TicketStatus.open,
            "subject": subject[:200],
            "opened_by": opened_by,
            "timeline": list(timeline),
            "due_at": clock.now() + sla(kind),
        },
    )


def sla(kind: TicketKind) -> timedelta:
    """How long a ticket of ``kind`` may wait for support (settings ``support_sla_*``)."""
    minutes: int = getattr(get_settings(), f"support_sla_{kind.value}_minutes")
    return timedelta(minutes=minutes)


def tickets_for_order(session: Session, order_id: int) -> list[Ticket]:
    return repository.for_order(session, order_id)


def tickets_for_card(session: Session, card_id: int) -> list[Ticket]:
    return repository.for_card(session, card_id)


class TicketNotFoundError(TulparError):
    # Same answer for "no such ticket" and "another card's ticket".
    status = 404
    code = "ticket_not_found"
    title = "Support request not found"


class TicketMessageInvalidError(InvalidInputError):
    code = "message_invalid"
    title = "Write a question of 1 to 2,000 characters"


MESSAGE_MAX_LENGTH = 2000
TRAVELLER_MESSAGE = "traveller_message"  # a timeline entry holding what the traveller wrote


@dataclass(frozen=True, slots=True)
class TicketMessage:
    text: str
    written_at: datetime


def ask(session: Session, caller: Caller, *, message: str, order_id: int | None) -> Ticket:
    """A traveller's question about their card or one of its orders, as a ``question``
    ticket holding the message and (for an order) the order's timeline. An order has one
    question ticket: asking again about it adds the message to that ticket. Another card's
    order is "not found". Never commits."""
    text = message.strip()
    if not text or len(text) > MESSAGE_MAX_LENGTH:
        raise TicketMessageInvalidError()
    if caller.kind is not CallerKind.traveller or caller.card_id is None:
        raise ForbiddenError("Only the card's traveller asks support here")
    now = clock.now()
    entry = {"kind": TRAVELLER_MESSAGE, "message": text, "at": now.isoformat()}
    if order_id is None:
        ticket = open_ticket(
            session,
            card_id=caller.card_id,
            order_id=None,
            kind=TicketKind.question,
            subject=_subject(text),
            timeline=[entry],
            opened_by=caller.actor,
        )
        assert ticket is not None  # only an order's tickets are unique by kind
        return ticket
    order = order_service.visible_order(session, caller, order_id)
    snapshot = [
        {
            "kind": "order_event",
            "from": None if event.from_state is None else event.from_state.value,
            "to": event.to_state.value,
            "actor": event.actor,
            "reason": event.reason,
            "at": event.occurred_at.isoformat(),
        }
        for event in order_service.timeline(session, order.id)
    ]
    ticket = open_ticket(
        session,
        card_id=order.card_id,
        order_id=order.id,
        kind=TicketKind.question,
        subject=_subject(text, order_id=order.id),
        timeline=[entry, *snapshot],
        opened_by=caller.actor,
    )
    if ticket is not None:
        return ticket
    (existing,) = repository.for_order(session, order.id, kind=TicketKind.question)
    session.refresh(existing, with_for_update=True)  # concurrent questions queue up here
    existing.timeline = [*existing.timeline, entry]
    if existing.status in (TicketStatus.resolved, TicketStatus.closed):
        existing.status = TicketStatus.open
    session.flush()
    return existing


def visible_ticket(session: Session, caller: Caller, ticket_id: int) -> Ticket:
    """A ticket of the traveller's card; :class:`TicketNotFoundError` for any other."""
    if caller.card_id is None:
        raise TicketNotFoundError()
    for ticket in repository.for_card(session, caller.card_id):
        if ticket.id == ticket_id:
            return ticket
    raise TicketNotFoundError()


def traveller_messages(ticket: Ticket) -> list[TicketMessage]:
    """What the traveller wrote on ``ticket``, oldest first."""
    return [
        TicketMessage(text=str(entry["message"]), written_at=datetime.fromisoformat(entry["at"]))
        for entry in ticket.timeline
        if entry.get("kind") == TRAVELLER_MESSAGE
    ]


def _subject(text: str, *, order_id: int | None = None) -> str:
    first_line = " ".join(text.split())
    prefix = "" if order_id is None else f"Order {order_id}: "
    return (prefix + first_line)[:200]


def replies(session: Session, ticket: Ticket) -> list[TicketEntry]:
    """What support answered the traveller on ``ticket`` (also sent by SMS), oldest first;
    internal notes are not among them."""
    return repository.entries_of(session, ticket.id, kind=TicketEntryKind.reply)
