from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import Ticket, TicketEntry, TicketEntryKind, TicketKind


def insert_unless_exists(session: Session, values: dict[str, Any]) -> Ticket | None:
    """Insert a ticket; ``None`` if one of this kind already exists for the order."""
    statement = (
        insert(Ticket)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["order_id", "kind"], index_where=Ticket.order_id.is_not(None)
        )
        .returning(Ticket.id)
    )
    ticket_id = session.execute(statement).scalar_one_or_none()
    return None if ticket_id is None else session.get(Ticket, ticket_id)


def for_order(session: Session, order_id: int, *, kind: TicketKind | None = None) -> list[Ticket]:
    query = select(Ticket).where(Ticket.order_id == order_id).order_by(Ticket.id)
    if kind is not None:
        query = query.where(Ticket.kind == kind)
    return list(session.scalars(query))


def for_card(session: Session, card_id: int) -> list[Ticket]:
    query = select(Ticket).where(Ticket.card_id == card_id).order_by(Ticket.id)
    return list(session.scalars(query))


def entries_of(
    session: Session, ticket_id: int, *, kind: TicketEntryKind | None = None
) -> list[TicketEntry]:
    query = select(TicketEntry).where(TicketEntry.ticket_id == ticket_id).order_by(TicketEntry.id)
    if kind is not None:
        query = query.where(TicketEntry.kind == kind)
    return list(session.scalars(query))
