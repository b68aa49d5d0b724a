"""Support working a ticket: the queue (overdue first), assignment, internal notes, replies
to the traveller by SMS in the card's language, and status moves along allowed paths. Each
change is decided on the caller (:mod:`.access`), written as a ticket entry and audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.errors import InvalidInputError, TulparError
from tulpar.models import Card, Ticket, TicketEntry, TicketEntryKind, TicketKind, TicketStatus
from tulpar.notification import service as notification_service
from tulpar.support import access, repository
from tulpar.support.service import TicketNotFoundError, open_ticket

REPLY_TEMPLATE = "support_reply"
TEXT_MAX_LENGTH = 2000
# SMS replies are short: at most this many characters of the agent's text.
REPLY_MAX_LENGTH = 300

# Where a ticket may go from each status; "open" again is reopening.
MOVES: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.open: frozenset({TicketStatus.pending, TicketStatus.resolved}),
    TicketStatus.pending: frozenset({TicketStatus.open, TicketStatus.resolved}),
    TicketStatus.resolved: frozenset({TicketStatus.open, TicketStatus.closed}),
    TicketStatus.closed: frozenset(),
}
WAITING = (TicketStatus.open, TicketStatus.pending)


class TicketMoveRefusedError(TulparError):
    status = 409
    code = "ticket_move_refused"
    title = "The ticket cannot move to that status"


class ReasonRequiredError(InvalidInputError):
    code = "reason_required"
    title = "Say why (a reason is required)"


class TextInvalidError(InvalidInputError):
    code = "text_invalid"
    title = "Write 1 to 2,000 characters (an SMS reply: at most 300)"


class NoRecipientError(TulparError):
    status = 409
    code = "no_recipient"
    title = "The card has no phone number to send the reply to"


def reason_of(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ReasonRequiredError()
    return text[:500]


def _text(value: str, *, limit: int = TEXT_MAX_LENGTH) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise TextInvalidError()
    return text


@dataclass(frozen=True, slots=True)
class QueueRow:
    ticket: Ticket
    overdue: bool


def queue(
    session: Session, caller: Caller, *, include_done: bool = False, limit: int = 200
) -> list[QueueRow]:
    """Tickets waiting for support: overdue first (most overdue first), then by due time."""
    access.require(caller, "ticket.view")
    now = clock.now()
    overdue = case((Ticket.due_at < now, 0), else_=1)
    query = select(Ticket).order_by(overdue, Ticket.due_at.nulls_last(), Ticket.id).limit(limit)
    if not include_done:
        query = query.where(Ticket.status.in_(WAITING))
    return [
        QueueRow(ticket=ticket, overdue=is_overdue(ticket, now=now))
        for ticket in session.scalars(query)
    ]


def is_overdue(ticket: Ticket, *, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return ticket.status in WAITING and ticket.due_at is not None and ticket.due_at < now


def get(session: Session, caller: Caller, ticket_id: int, *, for_update: bool = False) -> Ticket:
    access.require(caller, "ticket.view")
    query = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update()
    ticket = session.scalars(query).one_or_none()
    if ticket is None:
        raise TicketNotFoundError()
    return ticket


def entries(session: Session, ticket_id: int) -> list[TicketEntry]:
    return repository.entries_of(session, ticket_id)


def open_by_staff(
    session: Session, caller: Caller, *, card: Card, order_id: int | None, message: str
) -> Ticket:
    """A question a clerk (or support) opens for a traveller at the counter or on the phone."""
    access.require(caller, "ticket.open")
    text = _text(message)
    now = clock.now()
    prefix = "" if order_id is None else f"Order {order_id}: "
    ticket = open_ticket(
        session,
        card_id=card.id,
        order_id=None,  # an order's question ticket is the traveller's own (service.ask)
        kind=TicketKind.question,
        subject=(prefix + " ".join(text.split()))[:200],
        timeline=[{"kind": "staff_message", "message": text, "at": now.isoformat()}],
        opened_by=caller.actor,
    )
    assert ticket is not None  # tickets without an order are never duplicates
    session.flush()
    return ticket


def _entry(
    session: Session,
    ticket: Ticket,
    caller: Caller,
    kind: TicketEntryKind,
    body: str,
    *,
    language: str | None = None,
    notification_id: int | None = None,
) -> TicketEntry:
    entry = TicketEntry(
        ticket_id=ticket.id,
        kind=kind,
        author=caller.actor,
        body=body,
        language=language,
        notification_id=notification_id,
    )
    session.add(entry)
    ticket.updated_at = clock.now()
    session.flush()
    return entry


def assign(session: Session, caller: Caller, ticket_id: int, *, staff_id: int, name: str) -> Ticket:
    access.require(caller, "ticket.assign")
    ticket = get(session, caller, ticket_id, for_update=True)
    before = {"assignee_staff_id": ticket.assignee_staff_id, "assignee": ticket.assignee}
    ticket.assignee_staff_id = staff_id
    ticket.assignee = name[:120]
    after = {"assignee_staff_id": staff_id, "assignee": ticket.assignee}
    _entry(session, ticket, caller, TicketEntryKind.assignment, f"assigned to {ticket.assignee}")
    access.audit(
        session,
        caller,
        "ticket.assign",
        subject=f"ticket:{ticket.id}",
        reason=None,
        before=before,
        after=after,
    )
    return ticket


def note(session: Session, caller: Caller, ticket_id: int, *, text: str) -> TicketEntry:
    """An internal note: support reads it, the traveller never does."""
    access.require(caller, "ticket.note")
    ticket = get(session, caller, ticket_id, for_update=True)
    return _entry(session, ticket, caller, TicketEntryKind.note, _text(text))


def reply(session: Session, caller: Caller, ticket_id: int, *, text: str) -> TicketEntry:
    """Answer the traveller by SMS, framed in the card's language; the ticket then waits for
    them (``pending``). Refused, changing nothing, when the card has no number."""
    access.require(caller, "ticket.reply")
    ticket = get(session, caller, ticket_id, for_update=True)
    body = _text(text, limit=REPLY_MAX_LENGTH)
    entry_count = len(entries(session, ticket.id))
    notification = notification_service.queue_sms(
        session,
        card_id=ticket.card_id,
        template=REPLY_TEMPLATE,
        context={"ticket": ticket.id, "message": body},
        dedupe_key=f"ticket:{ticket.id}:reply:{entry_count + 1}",
    )
    if notification is None:
        raise NoRecipientError()
    entry = _entry(
        session,
        ticket,
        caller,
        TicketEntryKind.reply,
        body,
        language=notification.language,
        notification_id=notification.id,
    )
    if ticket.status is TicketStatus.open:
        ticket.status = TicketStatus.pending
    session.flush()
    return entry


def move(
    session: Session, caller: Caller, ticket_id: int, *, to: TicketStatus, reason: str
) -> Ticket:
    access.require(caller, "ticket.move")
    why = reason_of(reason)
    ticket = get(session, caller, ticket_id, for_update=True)
    if to not in MOVES[ticket.status]:
        raise TicketMoveRefusedError(f"A {ticket.status.value} ticket cannot become {to.value}")
    before = {"status": ticket.status.value}
    ticket.status = to
    _entry(
        session, ticket, caller, TicketEntryKind.status, f"{before['status']} → {to.value}: {why}"
    )
    access.audit(
        session,
        caller,
        "ticket.move",
        subject=f"ticket:{ticket.id}",
        reason=why,
        before=before,
        after={"status": to.value},
    )
    return ticket
