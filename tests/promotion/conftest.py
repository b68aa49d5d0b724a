"""Promotions for tests, a partner caller, and helpers to move an order along in-session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.payments import report_payment
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller, CallerKind
from tulpar.fulfilment import checkout
from tulpar.fulfilment import provisioning as fulfilment_provisioning
from tulpar.integrations.payments.protocol import ProviderPayment, ProviderStatus
from tulpar.models import (
    Card,
    Channel,
    DiscountKind,
    Order,
    OrderKind,
    PaymentProviderName,
    Promotion,
    PromotionRedemption,
)
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.provisioning.settlement import Settled, Settlement

NAMES = {"zh-Hans": "早鸟续费", "ru": "Ранняя пташка", "kk": "Ерте жаңарту", "en": "Early bird"}


def create_promotion(session: Session, **values: Any) -> Promotion:
    """A promotion row (the admin service validates; here any valid row will do)."""
    values.setdefault("names", dict(NAMES))
    values.setdefault("effect_kind", DiscountKind.percent)
    values.setdefault("effect_value", 10 if values["effect_kind"] is not DiscountKind.none else 0)
    if "code" in values and values["code"] is not None:
        values["code"] = values["code"].upper()
    else:
        values.setdefault("automatic", True)
    promotion = Promotion(**values)
    session.add(promotion)
    session.flush()
    return promotion


def partner(partner_id: int | None = None) -> Caller:
    return Caller(
        kind=CallerKind.partner,
        actor="partner:Test",
        channel=Channel.api,
        scopes=frozenset({"partner"}),
        partner_id=partner_id,
    )


def request(
    card: str,
    plan: str,
    *,
    promo_code: str | None = None,
    provider: PaymentProviderName = PaymentProviderName.sandbox,
) -> checkout.OrderRequest:
    return checkout.OrderRequest(
        card=card,
        kind=OrderKind.plan_renewal,
        plan=plan,
        amount_minor=None,
        currency="KZT",
        payment_provider=provider,
        promo_code=promo_code,
    )


def redemptions(session: Session, promotion_id: int) -> list[tuple[int, str, int]]:
    """(order id, state, discount) of the promotion's redemptions, by order."""
    rows = session.execute(
        select(
            PromotionRedemption.order_id,
            PromotionRedemption.state,
            PromotionRedemption.discount_minor,
        )
        .where(PromotionRedemption.promotion_id == promotion_id)
        .order_by(PromotionRedemption.order_id)
    )
    return [(order_id, state.value, discount) for order_id, state, discount in rows]


def counters(session: Session, promotion_id: int) -> tuple[int, int]:
    promotion = session.get(Promotion, promotion_id, populate_existing=True)
    assert promotion is not None
    return promotion.redeemed_count, promotion.spent_minor


def order_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def place(session: Session, card: Card, plan: str, **options: Any) -> checkout.CheckoutResult:
    """The traveller of ``card`` places a renewal on the web (with the promotion engine)."""
    return checkout.place(
        session, auth_service.traveller(card.id), request(card.iccid, plan, **options)
    )


def pay(session: Session, placed: checkout.CheckoutResult) -> None:
    """The sandbox says the order's payment went through (the order is paid)."""
    report_payment(
        session,
        placed.payment.id,
        ProviderPayment(
            reference=placed.payment.provider_reference or "", status=ProviderStatus.succeeded
        ),
    )


def complete(session: Session, placed: checkout.CheckoutResult) -> Order:
    """Pay the order and settle its provisioning as applied (what the carrier's answer does)."""
    pay(session, placed)
    order = placed.order
    assert order_service.move(
        session, order.id, OrderMove.start_provisioning, actor="test", reason="test"
    )
    settled = fulfilment_provisioning.on_settlement(
        session,
        Settlement(
            outcome=Settled.completed,
            order_id=order.id,
            card_id=order.card_id,
            reference=f"test-{order.id}",
            attempts=1,
            via="response",
        ),
    )
    assert settled is Settled.completed
    return order_service.get(session, order.id)


def expire_unpaid(session: Session) -> int:
    """The payment window passes: unpaid orders expire (the order.expire_abandoned job)."""
    return order_service.expire_abandoned(session, now=clock.now() + timedelta(hours=1))
