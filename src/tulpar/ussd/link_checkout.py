"""Opening a payment link: the checkout for the card and plan it names, on the web channel
with the sandbox provider. Opening it again (a double tap, an SMS app's link preview) reaches
the same order: the link's nonce is the idempotency key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.card import service as card_service
from tulpar.errors import CardNotFoundError, TulparError
from tulpar.fulfilment import checkout
from tulpar.idempotency import service as idempotency
from tulpar.models import OrderKind
from tulpar.ussd import links
from tulpar.wallet.service import WALLET_CURRENCY


@dataclass(frozen=True, slots=True)
class LinkOpened:
    order_id: int
    next_url: str  # where the payer goes: the provider's pay page


@dataclass(frozen=True, slots=True)
class LinkRefused:
    status: int  # 400 forged or damaged, 410 expired, 409 the renewal cannot be paid now
    code: str
    language: str | None  # the card's, when the link is genuine


def open_link(session: Session, token: str) -> LinkOpened | LinkRefused:
    """Place (or find again) the order a link stands for. A refusal changes nothing."""
    try:
        link = links.read(token, now=clock.now())
    except links.PaymentLinkExpiredError as expired:
        return LinkRefused(410, expired.code, _language(session, expired.link.card_id))
    except links.PaymentLinkInvalidError as invalid:
        return LinkRefused(400, invalid.code, None)
    caller = auth_service.traveller(link.card_id, channel=links.CHECKOUT_CHANNEL)
    language = _language(session, link.card_id)
    try:
        # Everything or nothing: a refused checkout must not leave its idempotency key taken.
        with session.begin_nested():
            claim = idempotency.claim(
                session,
                caller=caller.key,
                key=f"payment-link:{link.nonce}",
                fingerprint=idempotency.request_fingerprint(
                    "GET", links.LINK_PATH, {"card": link.card_id, "plan": link.plan}
                ),
            )
            if claim.replay is not None:
                body = claim.replay.body
                return LinkOpened(int(body["order_id"]), str(body["next_url"]))
            placed = checkout.place(
                session,
                caller,
                checkout.OrderRequest(
                    card=card_service.get(session, link.card_id).iccid,
                    kind=OrderKind.plan_renewal,
                    plan=link.plan,
                    amount_minor=None,
                    currency=WALLET_CURRENCY,
                    payment_provider=links.CHECKOUT_PROVIDER,
                    promo_code=None,
                ),
            )
            action = placed.payment.next_action or {}
            opened = LinkOpened(placed.order.id, str(action.get("url", "")))
            idempotency.store_response(
                session,
                claim,
                status=303,
                body={"order_id": opened.order_id, "next_url": opened.next_url},
            )
            return opened
    except TulparError as refused:
        return LinkRefused(409, refused.code, language)


def _language(session: Session, card_id: int) -> str | None:
    try:
        return card_service.get(session, card_id).language
    except CardNotFoundError:
        return None
