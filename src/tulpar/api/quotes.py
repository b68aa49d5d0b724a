from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tulpar import clock
from tulpar.api.dependencies import AnyCaller
from tulpar.api.schemas.balance import MoneyAmount
from tulpar.api.schemas.quote import Amounts, RenewalQuoteOut
from tulpar.bundle.policy import Allowances
from tulpar.kit.session import DbSession
from tulpar.order import checkout

router = APIRouter(prefix="/v1", tags=["orders"])


@router.get("/cards/{card}/quote", response_model=RenewalQuoteOut)
def renewal_quote(
    card: str,
    session: DbSession,
    caller: AnyCaller,
    plan: Annotated[str, Query(min_length=1, max_length=32)],
    currency: Annotated[str, Query(min_length=3, max_length=3)] = "KZT",
) -> RenewalQuoteOut:
    """What renewing this card with ``plan`` now would cost and do: the new validity end,
    what carries over from the running bundle and anything forfeited. The same code applies
    the bundle once the order is paid; usage meanwhile can only lower what carries over."""
    found = checkout.quote(session, caller, card=card, plan=plan, currency=currency)
    renewal = found.renewal
    return RenewalQuoteOut(
        plan=found.plan.code,
        price=MoneyAmount(amount_minor=found.price.amount_minor, currency=found.price.currency),
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
