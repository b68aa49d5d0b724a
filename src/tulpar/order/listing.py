"""A partner's orders, newest first, a page at a time (the API's ``GET /v1/orders``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.card import service as card_service
from tulpar.errors import ForbiddenError
from tulpar.models import Order, OrderState
from tulpar.order import repository


@dataclass(frozen=True, slots=True)
class ListedOrder:
    order: Order
    iccid: str
    plan_code: str | None


def partner_orders(
    session: Session,
    caller: Caller,
    *,
    state: OrderState | None = None,
    card: str | None = None,
    before: tuple[datetime, int] | None = None,
    limit: int,
) -> list[ListedOrder]:
    """Up to ``limit`` orders this partner placed, older than ``before`` (created_at, id).
    ``card`` (ICCID or phone number) narrows them to one card the partner may read; any
    other card is "not found", as on every card endpoint."""
    auth_service.require_scope(caller, "partner")
    if caller.partner_id is None:
        raise ForbiddenError("Orders are listed for a partner's key")
    card_id = None
    if card is not None:
        found = card_service.find(session, card)
        auth_service.ensure_may_read_card(caller, found)
        card_id = found.id
    rows = repository.page_for_partner(
        session, caller.partner_id, state=state, card_id=card_id, before=before, limit=limit
    )
    return [ListedOrder(order, iccid, code) for order, iccid, code in rows]
