from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tulpar.idempotency import service as idempotency
from tulpar.integrations.payments.protocol import ProviderError
from tulpar.order import checkout, views
from tulpar.order.callers import OrderCallerDep
from tulpar.order.schemas import OrderCreate, OrderOut, PaymentAttemptCreate
from tulpar.payment import service as payment_service
from tulpar.web.dependencies import DbSession

router = APIRouter(prefix="/v1", tags=["orders"])

OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKeyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Required; kept at least 24 h")
]


@router.post("/orders", status_code=201, response_model=OrderOut)
def create_order(
    body: OrderCreate,
    session: DbSession,
    caller: OrderCallerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Place a renewal or top-up and start its payment. The response's ``payment.next_action``
    says what the payer does next (e.g. open the hosted pay page). The same
    ``Idempotency-Key`` with the same body replays the first response."""
    payload = body.model_dump(mode="json")
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=idempotency_key,
        fingerprint=idempotency.request_fingerprint("POST", "/v1/orders", payload),
    )
    if claim.replay is not None:
        return _replayed(claim.replay)
    order, payment = checkout.place(
        session,
        caller,
        checkout.OrderRequest(
            card=body.card,
            kind=body.kind,
            plan=body.plan,
            amount_minor=body.amount_minor,
            currency=body.currency,
            payment_provider=body.payment_provider,
            promo_code=body.promo_code,
        ),
    )
    return _answer_and_start(session, claim, order.id, payment.id)


@router.post("/orders/{order_id}/payments", status_code=201, response_model=OrderOut)
def pay_again(
    order_id: OrderId,
    body: PaymentAttemptCreate,
    session: DbSession,
    caller: OrderCallerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Start a new payment attempt for an order that is still open (e.g. after a decline)."""
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=idempotency_key,
        fingerprint=idempotency.request_fingerprint(
            "POST", f"/v1/orders/{order_id}/payments", body.model_dump(mode="json")
        ),
    )
    if claim.replay is not None:
        return _replayed(claim.replay)
    order, payment = checkout.pay_again(session, caller, order_id, provider=body.payment_provider)
    return _answer_and_start(session, claim, order.id, payment.id)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: OrderId, session: DbSession, caller: OrderCallerDep) -> OrderOut:
    """The order, its payment attempts and its timeline: for the partner that placed it or
    the traveller of its card."""
    order = checkout.visible_order(session, caller, order_id)
    return views.order_out(session, order.id)


def _answer_and_start(
    session: Session, claim: idempotency.Claim, order_id: int, payment_id: int
) -> JSONResponse:
    body = _store(session, claim, order_id)
    pending = payment_service.provider_request(session, payment_id)
    if pending is None:
        return JSONResponse(body, status_code=201)
    # A provider that needs the network (Stripe) is called only once the order, the payment
    # intent and the idempotent answer are committed; the result is recorded in a second
    # transaction. If the call fails, the re-query job starts the payment later.
    session.commit()
    try:
        outcome = payment_service.call_provider(pending.request, pending.provider)
    except ProviderError:
        return JSONResponse(body, status_code=201)
    payment_service.record_start(session, payment_id, outcome)
    return JSONResponse(_store(session, claim, order_id), status_code=201)


def _store(session: Session, claim: idempotency.Claim, order_id: int) -> dict[str, Any]:
    body = views.order_out(session, order_id).model_dump(mode="json")
    idempotency.store_response(session, claim, status=201, body=body)
    return body


def _replayed(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(
        stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"}
    )
