"""Page 5, order status, live: paid → applying to the network → done, or what happens after a
failure (automatic refund, the ticket number). Scripts poll the progress fragment; without
scripts the page refreshes itself and has a refresh link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session

from tulpar.auth.identity import Caller
from tulpar.balance import service as balance_service
from tulpar.card import service as card_service
from tulpar.kit.session import DbSession
from tulpar.models import Order, OrderState, Payment, PaymentState, Receipt, Ticket
from tulpar.order import service as order_service
from tulpar.payment import service as payment_service
from tulpar.receipt import service as receipt_service
from tulpar.support import service as support_service
from tulpar.web.traveller.checkout import new_form_key
from tulpar.web.traveller.pages import PageRoute, render, traveller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Nothing more will happen without the traveller: the page stops watching.
SETTLED = frozenset(
    {OrderState.completed, OrderState.expired, OrderState.refunded, OrderState.payment_failed}
)
PAID_STATES = frozenset(
    {
        OrderState.paid,
        OrderState.provisioning,
        OrderState.completed,
        OrderState.provisioning_failed,
        OrderState.refunded,
    }
)
POLL_SECONDS = 3


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    plan_names: dict[str, str]
    plan_code: str | None
    payment: Payment | None  # the latest attempt
    pay_url: str | None  # where a pending attempt is paid
    receipt: Receipt | None
    tickets: list[Ticket]
    validity_ends_at: datetime | None

    @property
    def state(self) -> str:
        return self.order.state.value

    @property
    def settled(self) -> bool:
        return self.order.state in SETTLED

    @property
    def paid(self) -> bool:
        return self.order.state in PAID_STATES

    @property
    def can_pay_again(self) -> bool:
        return self.order.state is OrderState.payment_failed

    @property
    def step(self) -> int:
        """1 paid, 2 applying to the network, 3 done (0: not paid yet)."""
        if self.order.state is OrderState.completed:
            return 3
        if self.order.state in (OrderState.paid, OrderState.provisioning):
            return 2
        return 0


def order_view(session: Session, caller: Caller, order_id: int) -> OrderView:
    """The order of the traveller's card (404 for any other)."""
    order = order_service.visible_order(session, caller, order_id)
    attempts = payment_service.attempts(session, order.id)
    latest = attempts[-1] if attempts else None
    action = (latest.next_action or {}) if latest is not None else {}
    pending = latest is not None and latest.state is PaymentState.pending
    receipt = receipt_service.for_order(session, order.id)
    return OrderView(
        order=order,
        plan_names=dict(order_service.plan_of(session, order).names) if order.plan_id else {},
        plan_code=order_service.plan_code_of(session, order),
        payment=latest,
        pay_url=str(action["url"]) if pending and isinstance(action.get("url"), str) else None,
        receipt=receipt,
        tickets=support_service.tickets_for_order(session, order.id),
        validity_ends_at=_validity_after(session, caller, order, receipt),
    )


def _validity_after(
    session: Session, caller: Caller, order: Order, receipt: Receipt | None
) -> datetime | None:
    if order.state is not OrderState.completed:
        return None
    if receipt is not None and (recorded := receipt_service.new_validity_end(receipt)):
        return recorded
    card = card_service.get(session, order.card_id)
    return balance_service.balance_for(session, caller, card.iccid).validity_ends_at


@router.get("/orders/{order_id}")
def order_page(order_id: OrderId, request: Request, session: DbSession) -> Response:
    view = order_view(session, traveller(session, request), order_id)
    return render(
        request,
        "order.html",
        view=view,
        poll_seconds=POLL_SECONDS,
        cancelled=request.query_params.get("cancelled") == "1",
        form_key=new_form_key(),
    )


@router.get("/orders/{order_id}/progress")
def order_progress(order_id: OrderId, request: Request, session: DbSession) -> Response:
    """The live part of the order page, for the page's script to swap in."""
    view = order_view(session, traveller(session, request), order_id)
    return render(
        request,
        "progress.html",
        view=view,
        form_key=new_form_key(),
        headers={"X-Order-State": view.state},
    )
