"""Placing an order: who may buy what for which card, at which frozen price. Starting its
payment is fulfilment's (:mod:`tulpar.fulfilment.checkout`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.bundle import service as bundle_service
from tulpar.bundle.policy import RenewalQuote
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError, TulparError
from tulpar.models import Card, Order, OrderKind, OrderState, PaymentProviderName, Plan
from tulpar.money import Money
from tulpar.order import repository
from tulpar.order import service as order_service
from tulpar.order.moves import OPEN_FOR_PAYMENT, OrderMove
from tulpar.wallet.service import WALLET_CURRENCY

TOPUP_MIN_MINOR = 100_00
TOPUP_MAX_MINOR = 500_000_00


class PlanNotOnChannelError(TulparError):
    status = 422
    code = "plan_not_on_channel"
    title = "This plan is not sold on this channel"


class CurrencyNotOfferedError(TulparError):
    status = 422
    code = "currency_not_offered"
    title = "This plan has no price in that currency"


class PaymentMethodNotAllowedError(TulparError):
    status = 422
    code = "payment_method_not_allowed"
    title = "This payment method cannot pay this order"


class OrderNotPayableError(TulparError):
    status = 409
    code = "order_not_payable"
    title = "This order cannot be paid any more"


@dataclass(frozen=True, slots=True)
class PromotionTerms:
    """The promotion chosen for an order (``tulpar.fulfilment.pricing`` picks it), frozen on
    the order: the money off and the bonus its bundle gets."""

    promotion_id: int
    discount_minor: int
    bonus_data_bytes: int = 0
    bonus_days: int = 0


@dataclass(frozen=True, slots=True)
class Priced:
    """A purchase that passed every check, at its list price."""

    card: Card
    plan: Plan | None
    price: Money


@dataclass(frozen=True, slots=True)
class OrderRequest:
    card: str
    kind: OrderKind
    plan: str | None
    amount_minor: int | None
    currency: str
    payment_provider: PaymentProviderName
    promo_code: str | None


def priced(session: Session, caller: Caller, request: OrderRequest) -> Priced:
    """The card, plan and list price of ``request``, refused for every reason placing it
    would be (nothing is written)."""
    auth_service.ensure_may_buy(caller)
    now = clock.now()
    card = card_service.find(session, request.card)
    auth_service.ensure_may_buy(caller, card)
    card_service.ensure_renewable(card, now=now)
    plan, price = _price(session, caller, request, now=now)
    _check_payment_method(request, price)
    return Priced(card=card, plan=plan, price=price)


def place(
    session: Session,
    caller: Caller,
    request: OrderRequest,
    *,
    promotion: PromotionTerms | None = None,
    found: Priced | None = None,
) -> Order:
    """Check, freeze the price (less ``promotion``'s discount) and record the order.
    Refusals raise before anything is written. A ``promo_code`` is read by the promotion
    engine before this (``tulpar.fulfilment.pricing``); here it is only kept. ``found``:
    what :func:`priced` gave for this request in this transaction (not checked again)."""
    now = clock.now()
    found = found or priced(session, caller, request)
    card, plan, price = found.card, found.plan, found.price
    discount = 0 if promotion is None else promotion.discount_minor
    if not 0 <= discount < price.amount_minor:
        raise InvalidInputError("A promotion leaves something to pay")
    order = repository.add(
        session,
        Order(
            card_id=card.id,
            kind=request.kind,
            plan_id=None if plan is None else plan.id,
            channel=caller.channel,
            state=OrderState.awaiting_payment,
            amount_minor=price.amount_minor - discount,
            currency=price.currency,
            payment_provider=request.payment_provider.value,
            promo_code=request.promo_code,
            promotion_id=None if promotion is None else promotion.promotion_id,
            list_amount_minor=price.amount_minor,
            discount_minor=discount,
            bonus_data_bytes=0 if promotion is None else promotion.bonus_data_bytes,
            bonus_days=0 if promotion is None else promotion.bonus_days,
            partner_id=caller.partner_id,
            placed_by=caller.actor,
            payable_until=now + _payment_window(),
            state_changed_at=now,
        ),
    )
    order_service.record_placed(
        session,
        order,
        actor=caller.actor,
        details={
            "kind": request.kind.value,
            "plan": None if plan is None else plan.code,
            "amount_minor": order.amount_minor,
            "currency": price.currency,
            "payment_provider": request.payment_provider.value,
            "channel": caller.channel.value,
            **_promotion_details(promotion, list_minor=price.amount_minor),
        },
    )
    return order


def _promotion_details(promotion: PromotionTerms | None, *, list_minor: int) -> dict[str, int]:
    if promotion is None:
        return {}
    return {
        "promotion_id": promotion.promotion_id,
        "list_amount_minor": list_minor,
        "discount_minor": promotion.discount_minor,
        "bonus_data_bytes": promotion.bonus_data_bytes,
        "bonus_days": promotion.bonus_days,
    }


@dataclass(frozen=True, slots=True)
class OrderQuote:
    """What a renewal would cost and do, as every channel shows it before payment."""

    plan: Plan
    price: Money
    renewal: RenewalQuote
    card: Card


def quote(
    session: Session,
    caller: Caller,
    *,
    card: str,
    plan: str,
    currency: str = "KZT",
    bonus_days: int = 0,
) -> OrderQuote:
    """The quote for renewing ``card`` with ``plan`` on the caller's channel, refused for the
    same reasons placing the order would be (and revealing no more about other cards).
    ``bonus_days``: a promotion's extra days, in the new validity end."""
    auth_service.ensure_may_buy(caller)
    now = clock.now()
    found = card_service.find(session, card)
    auth_service.ensure_may_buy(caller, found)
    card_service.ensure_renewable(found, now=now)
    request = OrderRequest(
        card=card,
        kind=OrderKind.plan_renewal,
        plan=plan,
        amount_minor=None,
        currency=currency,
        payment_provider=PaymentProviderName.sandbox,
        promo_code=None,
    )
    priced_plan, price = _price(session, caller, request, now=now)
    assert priced_plan is not None
    return OrderQuote(
        card=found,
        plan=priced_plan,
        price=price,
        renewal=bundle_service.quote(session, found, priced_plan, now=now, bonus_days=bonus_days),
    )


def reopen_for_payment(
    session: Session, caller: Caller, order_id: int, *, provider: PaymentProviderName
) -> Order:
    """Ready an order that is still open (e.g. after a decline) for a new payment attempt,
    with a full payment window of its own. The order stays locked until the transaction
    ends, so concurrent attempts for one order are numbered one after the other."""
    order_service.visible_order(session, caller, order_id)
    order = order_service.get(session, order_id, for_update=True)
    if order.state not in OPEN_FOR_PAYMENT or order.payable_until <= clock.now():
        raise OrderNotPayableError(f"The order is {order.state.value}", state=order.state.value)
    card_service.ensure_renewable(card_service.get(session, order.card_id), now=clock.now())
    _check_payment_method(
        OrderRequest("", order.kind, None, None, order.currency, provider, None),
        Money(order.amount_minor, order.currency),
    )
    if order.state is OrderState.payment_failed:
        order_service.move(
            session,
            order.id,
            OrderMove.reopen_for_payment,
            actor=caller.actor,
            reason="New payment attempt",
            details={"payment_provider": provider.value},
        )
    repository.extend_payable(session, order.id, until=clock.now() + _payment_window())
    return order_service.get(session, order.id)


def _payment_window() -> timedelta:
    return timedelta(minutes=get_settings().order_payment_window_minutes)


def _price(
    session: Session, caller: Caller, request: OrderRequest, *, now: datetime
) -> tuple[Plan | None, Money]:
    currency = request.currency.strip().upper()
    if request.kind is OrderKind.wallet_topup:
        if request.plan is not None:
            raise InvalidInputError("A wallet top-up has an amount_minor, not a plan")
        if currency != WALLET_CURRENCY:
            raise CurrencyNotOfferedError(f"Wallets are topped up in {WALLET_CURRENCY}")
        amount = request.amount_minor
        if amount is None or not TOPUP_MIN_MINOR <= amount <= TOPUP_MAX_MINOR:
            raise InvalidInputError(
                f"A top-up is between {TOPUP_MIN_MINOR} and {TOPUP_MAX_MINOR} minor units"
            )
        return None, Money(amount, currency)
    if request.plan is None:
        raise InvalidInputError("A plan renewal needs a plan code")
    if request.amount_minor is not None:
        raise InvalidInputError("The price of a renewal comes from the plan; omit amount_minor")
    plan = catalog_service.get_plan(session, request.plan)
    if caller.channel.value not in plan.channels or not _on_sale(plan, now):
        raise PlanNotOnChannelError(
            f"{plan.code} is not sold on the {caller.channel.value} channel",
            channel=caller.channel.value,
        )
    price = catalog_service.price_of(plan, currency)
    if price is None:
        raise CurrencyNotOfferedError(
            f"{plan.code} is not sold in {currency}",
            currencies=[p.currency for p in plan.prices],
        )
    return plan, price


def _on_sale(plan: Plan, now: datetime) -> bool:
    starts, ends = plan.sellable_from, plan.sellable_until
    return (starts is None or starts <= now) and (ends is None or ends > now)


def _check_payment_method(request: OrderRequest, price: Money) -> None:
    if request.payment_provider is not PaymentProviderName.wallet:
        return
    if request.kind is OrderKind.wallet_topup:
        raise PaymentMethodNotAllowedError("A wallet cannot top itself up")
    if price.currency != WALLET_CURRENCY:
        raise PaymentMethodNotAllowedError(f"The wallet pays in {WALLET_CURRENCY} only")
