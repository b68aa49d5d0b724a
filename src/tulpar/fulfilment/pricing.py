"""What a renewal costs once promotions are counted, for every channel: the quote picks the
best promotion, placing the order takes it against the promotion's limits and freezes it on
the order, completing redeems it, and an order that expires unpaid or is refunded gives it
back. The promotion engine (:mod:`tulpar.promotion`) and the order domain meet here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.models import Card, Order, OrderKind, Plan
from tulpar.money import Money
from tulpar.order import checkout as order_checkout
from tulpar.order import service as order_service
from tulpar.order.checkout import OrderQuote, OrderRequest, PromotionTerms
from tulpar.promotion import service as promotion_service
from tulpar.promotion.service import Offer, Purchase
from tulpar.receipt.service import LinePromotion, ReceiptLine

__all__ = [
    "AppliedPromotion",
    "Quote",
    "applied_to",
    "give_back",
    "message_context",
    "place",
    "quote",
    "receipt_line",
    "redeem",
]


@dataclass(frozen=True, slots=True)
class Quote:
    """The renewal quote with the promotion it gets (``offer`` None: none applies)."""

    base: OrderQuote  # its renewal already counts the promotion's bonus days
    offer: Offer | None

    @property
    def list_price(self) -> Money:
        return self.base.price

    @property
    def price(self) -> Money:
        """What the traveller pays."""
        discount = 0 if self.offer is None else self.offer.terms.discount_minor
        return Money(self.base.price.amount_minor - discount, self.base.price.currency)


def quote(
    session: Session,
    caller: Caller,
    *,
    card: str,
    plan: str,
    currency: str = "KZT",
    promo_code: str | None = None,
    payment_method: str | None = None,
) -> Quote:
    """The quote for renewing ``card`` with ``plan``, with the best promotion for it (a bad
    ``promo_code`` raises why). ``payment_method`` None: not chosen yet, so promotions for
    one payment method are left out."""
    base = order_checkout.quote(session, caller, card=card, plan=plan, currency=currency)
    offer = promotion_service.best_offer(
        session,
        _purchase(session, caller, base.card, base.plan, base.price, payment_method),
        code=_typed(promo_code),
    )
    if offer is not None and offer.terms.bonus_days:
        base = order_checkout.quote(
            session,
            caller,
            card=card,
            plan=plan,
            currency=currency,
            bonus_days=offer.terms.bonus_days,
        )
    return Quote(base=base, offer=offer)


def place(session: Session, caller: Caller, request: OrderRequest) -> Order:
    """Place the order with the best promotion for it, taken against the promotion's
    limits under its lock (held until the transaction ends). Refusals, a bad code among
    them, raise before anything is written."""
    code = _typed(request.promo_code)
    if request.kind is OrderKind.wallet_topup:
        if code is not None:
            raise promotion_service.PromoCodeNotApplicableError(
                "Promotions apply to renewals, not top-ups", reason="plan"
            )
        return order_checkout.place(session, caller, request)
    found = order_checkout.priced(session, caller, request)
    assert found.plan is not None  # a renewal
    offer = promotion_service.take_best(
        session,
        _purchase(
            session, caller, found.card, found.plan, found.price, request.payment_provider.value
        ),
        code=code,
    )
    terms = None
    if offer is not None:
        terms = PromotionTerms(
            promotion_id=offer.promotion_id,
            discount_minor=offer.terms.discount_minor,
            bonus_data_bytes=offer.terms.bonus_data_bytes,
            bonus_days=offer.terms.bonus_days,
        )
    order = order_checkout.place(session, caller, request, promotion=terms, found=found)
    if offer is not None:
        promotion_service.hold(session, offer, order_id=order.id, card_id=order.card_id)
    return order


def redeem(session: Session, order: Order) -> None:
    """The order completed: its promotion (if any) is redeemed for good."""
    if order.promotion_id is not None:
        promotion_service.redeem(session, order.id)


def give_back(session: Session, order_id: int) -> None:
    """The order was refunded or expired unpaid: its promotion's redemption is released."""
    promotion_service.release(session, order_id)


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    """The promotion frozen on an order, as receipts and messages show it."""

    code: str | None
    names: dict[str, str]
    list_amount_minor: int
    discount_minor: int
    bonus_data_bytes: int
    bonus_days: int


def applied_to(session: Session, order: Order) -> AppliedPromotion | None:
    if order.promotion_id is None:
        return None
    promotion = promotion_service.get(session, order.promotion_id)
    return AppliedPromotion(
        code=promotion.code,
        names=dict(promotion.names),
        list_amount_minor=order.list_amount_minor or order.amount_minor,
        discount_minor=order.discount_minor,
        bonus_data_bytes=order.bonus_data_bytes,
        bonus_days=order.bonus_days,
    )


def _typed(code: str | None) -> str | None:
    return code if code and code.strip() else None


def _purchase(
    session: Session,
    caller: Caller,
    card: Card,
    plan: Plan,
    price: Money,
    payment_method: str | None,
) -> Purchase:
    return Purchase(
        card_id=card.id,
        plan_code=plan.code,
        plan_data_bytes=plan.data_bytes,
        plan_validity_days=plan.validity_days,
        channel=caller.channel.value,
        payment_method=payment_method,
        list_price_minor=price.amount_minor,
        currency=price.currency,
        card_validity_ends_at=card.validity_ends_at,
        first_purchase=order_service.is_first_purchase(session, card.id),
        now=clock.now(),
    )


def receipt_line(session: Session, order: Order, plan: Plan, *, language: str) -> ReceiptLine:
    """The receipt line of a renewal order: the plan at the price paid, with the
    promotion frozen on the order (if any)."""
    applied = applied_to(session, order)
    return ReceiptLine.for_plan(
        plan.code,
        plan.names,
        language,
        unit_price_minor=order.amount_minor,
        promotion=None
        if applied is None
        else LinePromotion(
            names=applied.names,
            list_price_minor=applied.list_amount_minor,
            discount_minor=applied.discount_minor,
            bonus_data_bytes=applied.bonus_data_bytes,
            bonus_days=applied.bonus_days,
        ),
    )


def message_context(session: Session, order: Order) -> dict[str, object]:
    """What the confirmation SMS says of the order's promotion (empty without one)."""
    applied = applied_to(session, order)
    if applied is None:
        return {}
    return {
        "promotion": applied.names,
        "discount_minor": applied.discount_minor,
        "currency": order.currency,
        "bonus_data_bytes": applied.bonus_data_bytes,
        "bonus_days": applied.bonus_days,
    }
