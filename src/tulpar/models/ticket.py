from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tulpar.models.base import Base, created_at_column, identity_pk, str_enum


class TicketKind(enum.StrEnum):
    provisioning_failed = "provisioning_failed"
    paid_not_applied = "paid_not_applied"
    refund_failed = "refund_failed"
    question = "question"  # opened by a traveller or a clerk


class TicketStatus(enum.StrEnum):
    open = "open"
    pending = "pending"
    resolved = "resolved"
    closed = "closed"


class Ticket(Base):
    """A support case about a card (and usually an order). ``timeline`` is a snapshot of what
    happened, taken when the ticket was opened, so support sees it even if rows move on."""

    __tablename__ = "tickets"
    __table_args__ = (
        # The system opens at most one ticket of a kind per order, however often it fails.
        Index(
            "uq_tickets_order_id_kind",
            "order_id",
            "kind",
            unique=True,
            postgresql_where=text("order_id IS NOT NULL"),
        ),
        Index("ix_tickets_card_id", "card_id"),
        Index("ix_tickets_status_created_at", "status", "created_at"),
        Index("ix_tickets_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = identity_pk()
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[TicketKind] = mapped_column(str_enum(TicketKind, "ticket_kind"))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    subject: Mapped[str] = mapped_column(String(200))
    opened_by: Mapped[str] = mapped_column(String(120))
    timeline: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    # The support console (migration 0015): who works on it, and when it is due (its SLA).
    assignee_staff_id: Mapped[int | None]
    assignee: Mapped[str | None] = mapped_column(String(120))
    due_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TicketEntryKind(enum.StrEnum):
    note = "note"  # internal: the traveller never sees it
    reply = "reply"  # sent to the traveller by SMS
    status = "status"  # the ticket moved, with why
    assignment = "assignment"


class TicketEntry(Base):
    """What support did on a ticket, oldest first; never edited."""

    __tablename__ = "ticket_entries"
    __table_args__ = (Index("ix_ticket_entries_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = identity_pk()
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[TicketEntryKind] = mapped_column(str_enum(TicketEntryKind, "ticket_entry_kind"))
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    notification_id: Mapped[int | None]
    created_at: Mapped[datetime] = created_at_column()
