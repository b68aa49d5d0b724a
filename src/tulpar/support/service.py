"""Support tickets: a case about a card or an order, holding a snapshot of its timeline.
The system opens one when something the traveller paid for went wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tulpar.models import Ticket, TicketKind, TicketStatus
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
        },
    )


def tickets_for_order(session: Session, order_id: int) -> list[Ticket]:
    return repository.for_order(session, order_id)


def tickets_for_card(session: Session, card_id: int) -> list[Ticket]:
    return repository.for_card(session, card_id)
