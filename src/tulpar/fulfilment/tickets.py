"""Support tickets the system opens about an order, each holding the order's whole story."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.fulfilment import timeline
from tulpar.models import Order, TicketKind
from tulpar.support import service as support_service


def open_for_order(
    session: Session, order: Order, *, kind: TicketKind, subject: str, opened_by: str
) -> None:
    """At most one ticket of each kind per order (a repeat changes nothing)."""
    support_service.open_ticket(
        session,
        card_id=order.card_id,
        order_id=order.id,
        kind=kind,
        subject=subject,
        timeline=timeline.of_order(session, order.id),
        opened_by=opened_by,
    )
