from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tulpar.api import order_views as views
from tulpar.api.dependencies import AnyCaller
from tulpar.api.schemas.order import OnlineProvider, OrderCreate, OrderOut, PaymentAttemptCreate
from tulpar.fulfilment import checkout
from tulpar.idempotency import service as idempotency
from tulpar.integrations.payments.protocol import ProviderError
from tulpar.kit.session import DbSession
from tulpar.models import PaymentProviderName
from tulpar.order import service as order_service

router = APIRouter(prefix="/v1", tags=["orders"])

OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKeyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Required; kept at least 24 h")
]


_CREATED_DOC = """

An order's response answers the moment it was created. Sending the same
``Idempotency-Key`` with the same body again replays that first response (header
``Idempotent-Replayed: true``) even after the order has moved on; the same key with a
different body is refused with 409. The first answer and every replay carry ``Location``,
the order's own URL: read it (``GET``) for the order as it is now."""


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    description="Place a renewal or top-up and start its payment. The response's"
    " ``payment.next_action`` says what the payer does next (e.g. open the hosted pay page)."
    + _CREATED_DOC,
)
def create_order(
    body: OrderCreate,
    session: DbSession,
    caller: AnyCaller,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    # Resolved before anything is written: a deployment with no provider refuses here.
    provider = _provider(body.payment_provider)
    payload = body.model_copy(
        update={"payment_provider": OnlineProvider(provider.value)}
    ).model_dump(mode="json")
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=idempotency_key,
        fingerprint=idempotency.request_fingerprint("POST", "/v1/orders", payload),
    )
    if claim.replay is not None:
        return _replayed(claim.replay)
    placed = checkout.place(
        session,
        caller,
        checkout.OrderRequest(
            card=body.card,
            kind=body.kind,
            plan=body.plan,
            amount_minor=body.amount_minor,
            currency=body.currency,
            payment_provider=provider,
            promo_code=body.promo_code,
        ),
    )
    return _answer_and_start(request, session, claim, placed)


@router.post(
    "/orders/{order_id}/payments",
    status_code=201,
    response_model=OrderOut,
    description="Start a new payment attempt for an order that is still open (e.g. after a"
    " decline)." + _CREATED_DOC,
)
def pay_again(
    order_id: OrderId,
    body: PaymentAttemptCreate,
    session: DbSession,
    caller: AnyCaller,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    provider = _provider(body.payment_provider)
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=idempotency_key,
        fingerprint=idempotency.request_fingerprint(
            "POST",
            f"/v1/orders/{order_id}/payments",
            body.model_copy(update={"payment_provider": OnlineProvider(provider.value)}).model_dump(
                mode="json"
            ),
        ),
    )
    if claim.replay is not None:
        return _replayed(claim.replay)
    again = checkout.pay_again(session, caller, order_id, provider=provider)
    return _answer_and_start(request, session, claim, again)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: OrderId, session: DbSession, caller: AnyCaller) -> OrderOut:
    """The order as it is now, its payment attempts and its timeline: for the partner that
    placed it or the traveller of its card."""
    order = order_service.visible_order(session, caller, order_id)
    return views.order_out(session, order)


def _answer_and_start(
    request: Request, session: Session, claim: idempotency.Claim, result: checkout.CheckoutResult
) -> JSONResponse:
    order_id = result.order.id
    body = _store(session, claim, result)
    if not result.provider_call_pending:
        return _created(body, order_id)
    # A provider that needs the network (Stripe) is called only once the order, the payment
    # intent and the idempotent answer are committed; the result is recorded in a second
    # transaction. If the call fails, the re-query job starts the payment later.
    session.commit()
    try:
        checkout.start_with_provider(result.payment.id, request.app.state.sessionmaker)
    except ProviderError:
        return _created(body, order_id)
    session.expire_all()  # the answer was recorded by another session: read again on use
    return _created(_store(session, claim, result), order_id)


def _provider(named: OnlineProvider | None) -> PaymentProviderName:
    """The provider named, or the default one (the sandbox outside production, Stripe once
    configured); refused later in checkout when it cannot take payment here."""
    return checkout.default_provider() if named is None else PaymentProviderName(named.value)


def _store(
    session: Session, claim: idempotency.Claim, result: checkout.CheckoutResult
) -> dict[str, Any]:
    attempts = [result.payment] if result.placed_now else None
    body = views.order_out(session, result.order, attempts=attempts).model_dump(mode="json")
    idempotency.store_response(session, claim, status=201, body=body)
    return body


def _location(order_id: object) -> dict[str, str]:
    return {"Location": f"/v1/orders/{order_id}"}


def _created(body: dict[str, Any], order_id: int) -> JSONResponse:
    return JSONResponse(body, status_code=201, headers=_location(order_id))


def _replayed(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(
        stored.body,
        status_code=stored.status,
        headers={"Idempotent-Replayed": "true", **_location(stored.body.get("id"))},
    )
