"""Page 4, pay: the order summary, then the payment provider's page (the sandbox's in the
demo). Each form carries its own idempotency key, so a double click or a resent form places
one order and starts one payment."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from sqlalchemy.orm import Session

from tulpar.auth.identity import Caller
from tulpar.fulfilment import checkout
from tulpar.idempotency import service as idempotency
from tulpar.kit.session import DbSession
from tulpar.models import OrderKind, PaymentProviderName
from tulpar.web.traveller.card import my_card
from tulpar.web.traveller.pages import (
    PageRoute,
    check_csrf,
    language_of,
    redirect,
    render,
    traveller,
)
from tulpar.web.traveller.plans import PAYMENT_CURRENCY, offer

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The hosted pay page of the only provider that needs nothing of the browser but a visit.
WEB_PROVIDER = PaymentProviderName.sandbox
PlanCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-]+$")]
OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]
FormText = Annotated[str, Form(max_length=64)]
PromoCodeQuery = Annotated[str, Query(max_length=64)]


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


@router.get("/plans/{code}")
def summary_page(
    code: PlanCode, request: Request, session: DbSession, promo_code: PromoCodeQuery = ""
) -> Response:
    """The order summary with the best promotion for it; ``promo_code`` (the page's own
    form) adds a typed code, or shows why it cannot be used."""
    caller = traveller(session, request)
    chosen = offer(
        session,
        caller,
        code,
        language=language_of(request),
        promo_code=promo_code,
        payment_method=WEB_PROVIDER.value,
    )
    return render(
        request,
        "checkout.html",
        view=my_card(session, caller),
        offer=chosen,
        form_key=new_form_key(),
        provider=WEB_PROVIDER.value,
    )


def _next_url(result: checkout.CheckoutResult) -> str:
    action = result.payment.next_action or {}
    if action.get("type") == "redirect_to_url" and isinstance(action.get("url"), str):
        return str(action["url"])
    return f"/orders/{result.order.id}"


def _once(
    session: Session, caller: Caller, *, key: str, request: dict[str, Any], path: str
) -> tuple[idempotency.Claim, str | None]:
    """Claim this form's key; the URL the first submission went on to, when it is a repeat."""
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=f"web:{key}",
        fingerprint=idempotency.request_fingerprint("POST", path, request),
    )
    if claim.replay is None:
        return claim, None
    return claim, str(claim.replay.body.get("next") or "/card")


@router.post("/orders")
def place_order(
    request: Request,
    session: DbSession,
    plan: FormText = "",
    key: FormText = "",
    csrf: FormText = "",
    promo_code: FormText = "",
) -> Response:
    check_csrf(request, csrf)
    caller = traveller(session, request)
    card = my_card(session, caller).balance.iccid
    code = promo_code.strip() or None
    wanted = {
        "plan": plan,
        "currency": PAYMENT_CURRENCY,
        "provider": WEB_PROVIDER.value,
        "promo_code": code,
    }
    claim, repeated = _once(session, caller, key=key, request=wanted, path="/orders")
    if repeated is not None:
        return redirect(request, repeated)
    result = checkout.place(
        session,
        caller,
        checkout.OrderRequest(
            card=card,
            kind=OrderKind.plan_renewal,
            plan=plan,
            amount_minor=None,
            currency=PAYMENT_CURRENCY,
            payment_provider=WEB_PROVIDER,
            promo_code=code,
        ),
    )
    url = _next_url(result)
    idempotency.store_response(
        session, claim, status=303, body={"order_id": result.order.id, "next": url}
    )
    return redirect(request, url)


@router.post("/orders/{order_id}/pay")
def pay_again(
    order_id: OrderId,
    request: Request,
    session: DbSession,
    key: FormText = "",
    csrf: FormText = "",
) -> Response:
    check_csrf(request, csrf)
    caller = traveller(session, request)
    wanted = {"order_id": order_id, "provider": WEB_PROVIDER.value}
    claim, repeated = _once(
        session, caller, key=key, request=wanted, path=f"/orders/{order_id}/pay"
    )
    if repeated is not None:
        return redirect(request, repeated)
    result = checkout.pay_again(session, caller, order_id, provider=WEB_PROVIDER)
    url = _next_url(result)
    idempotency.store_response(session, claim, status=303, body={"order_id": order_id, "next": url})
    return redirect(request, url)
