from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tulpar import clock
from tulpar.api.dependencies import AnyCaller
from tulpar.api.order_views import promotion_out
from tulpar.api.schemas.balance import MoneyAmount
from tulpar.api.schemas.order import OnlineProvider
from tulpar.api.schemas.quote import Amounts, RenewalQuoteOut
from tulpar.bundle.policy import Allowances
from tulpar.fulfilment import pricing
from tulpar.kit.session import DbSession

router = APIRouter(prefix="/v1", tags=["orders"])


@router.get("/cards/{card}/quote", response_model=RenewalQuoteOut)
def renewal_quote(
    card: str,
    session: DbSession,
    caller: AnyCaller,
    plan: Annotated[str, Query(min_length=1, max_length=32)],
    currency: Annotated[str, Query(min_length=3, max_length=3)] = "KZT",
    promo_code: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    payment_provider: OnlineProvider | None = None,
) -> RenewalQuoteOut:
    """What renewing this card with ``plan`` now would cost and do: the price after the best
    promotion for the traveller (automatic, or ``promo_code``'s when it gives more), the new
    validity end, what carries over from the running bundle and anything forfeited. The
    same code applies the bundle once the order is paid; usage meanwhile can only lower
    what carries over. Promotions for one payment method count only when
    ``payment_provider`` names it. A code that cannot be used is refused (422) with why:
    ``promo_code_unknown``, ``promo_code_expired``, ``promo_code_used_up``,
    ``promo_code_not_applicable``."""
    found = pricing.quote(
        session,
        caller,
        card=card,
        plan=plan,
        currency=currency,
        promo_code=promo_code,
        payment_method=None if payment_provider is None else payment_provider.value,
    )
    renewal = found.base.renewal
    price = found.price
    offer = found.offer
    return RenewalQuoteOut(
        plan=found.base.plan.code,
        price=MoneyAmount(amount_minor=price.amount_minor, currency=price.currency),
        promotion=None
        if offer is None
        else promotion_out(
            code=offer.code,
            names=offer.names,
            currency=price.currency,
            list_minor=found.list_price.amount_minor,
            discount_minor=offer.terms.discount_minor,
            bonus_data_bytes=offer.terms.bonus_data_bytes,
            bonus_days=offer.terms.bonus_days,
        ),
        policy=renewal.policy.value,
        starts_at=renewal.starts_at,
        expires_at=renewal.expires_at,
        validity_ends_at=renewal.validity_ends_at,
        validity_ends_at_local=clock.to_local(renewal.validity_ends_at),
        carried_over=_amounts(renewal.carried_over),
        forfeited=_amounts(renewal.forfeited),
    )


def _amounts(allowances: Allowances) -> Amounts:
    return Amounts(
        data_bytes=allowances.data_bytes,
        voice_seconds=allowances.voice_seconds,
        sms_count=allowances.sms_count,
    )
