"""Whether a promotion applies to a purchase, what it gives, and what that is worth to the
traveller, decided without touching the database (the service adds the limits)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from tulpar.models import DiscountKind, Promotion

# Budgets are in KZT, so money off is given on KZT prices only.
PROMOTION_CURRENCY = "KZT"


@dataclass(frozen=True, slots=True)
class Purchase:
    """What is being bought, as the promotion conditions read it."""

    card_id: int
    plan_code: str
    plan_data_bytes: int | None  # None: unlimited (bonus data means nothing then)
    plan_validity_days: int
    channel: str
    # None while the payer has not chosen (a quote): promotions for one method are left out.
    payment_method: str | None
    list_price_minor: int
    currency: str
    card_validity_ends_at: datetime | None
    first_purchase: bool
    now: datetime


class Mismatch(enum.StrEnum):
    """Why a promotion does not apply. ``ended`` and ``not_started`` are the window;
    the rest are conditions."""

    ended = "ended"
    not_started = "not_started"
    plan = "plan"
    channel = "channel"
    payment_method = "payment_method"
    currency = "currency"
    early_renewal = "early_renewal"
    first_purchase = "first_purchase"


@dataclass(frozen=True, slots=True)
class Terms:
    """What a promotion gives one purchase."""

    discount_minor: int
    bonus_data_bytes: int
    bonus_days: int

    @property
    def gives_something(self) -> bool:
        return bool(self.discount_minor or self.bonus_data_bytes or self.bonus_days)


def mismatch(promotion: Promotion, purchase: Purchase) -> Mismatch | None:
    """The first condition ``purchase`` fails, or None when the promotion applies."""
    now = purchase.now
    if not promotion.active or (promotion.ends_at is not None and promotion.ends_at <= now):
        return Mismatch.ended
    if promotion.starts_at is not None and promotion.starts_at > now:
        return Mismatch.not_started
    if promotion.plan_codes is not None and purchase.plan_code not in promotion.plan_codes:
        return Mismatch.plan
    if promotion.channels is not None and purchase.channel not in promotion.channels:
        return Mismatch.channel
    if promotion.payment_methods is not None and (
        purchase.payment_method not in promotion.payment_methods
    ):
        return Mismatch.payment_method
    if purchase.currency != PROMOTION_CURRENCY:
        return Mismatch.currency
    if promotion.early_renewal_days is not None and not _renews_early(
        purchase, promotion.early_renewal_days
    ):
        return Mismatch.early_renewal
    if promotion.first_purchase and not purchase.first_purchase:
        return Mismatch.first_purchase
    return None


def _renews_early(purchase: Purchase, within_days: int) -> bool:
    # Early means before the validity ends, and no more than ``within_days`` before.
    ends = purchase.card_validity_ends_at
    return ends is not None and purchase.now < ends <= purchase.now + timedelta(days=within_days)


def terms(promotion: Promotion, purchase: Purchase) -> Terms:
    """What ``promotion`` gives ``purchase``. Money off never makes the order free (at least
    one minor unit is paid: payment providers and receipts need an amount)."""
    price = purchase.list_price_minor
    if promotion.effect_kind is DiscountKind.percent:
        discount = price * promotion.effect_value // 100  # rounded in the operator's favour
    elif promotion.effect_kind is DiscountKind.fixed:
        discount = promotion.effect_value
    else:
        discount = 0
    discount = max(0, min(discount, price - 1))
    bonus_data = 0 if purchase.plan_data_bytes is None else promotion.bonus_data_bytes
    return Terms(
        discount_minor=discount, bonus_data_bytes=bonus_data, bonus_days=promotion.bonus_days
    )


def worth_minor(given: Terms, purchase: Purchase) -> int:
    """What ``given`` is worth to the traveller, in the purchase's minor units: money off
    as it is, bonus data and days at the plan's own price per byte and per day. This is how
    the best promotion is chosen."""
    price = purchase.list_price_minor
    worth = given.discount_minor
    if given.bonus_data_bytes and purchase.plan_data_bytes:
        worth += price * given.bonus_data_bytes // purchase.plan_data_bytes
    if given.bonus_days:
        worth += price * given.bonus_days // purchase.plan_validity_days
    return worth
