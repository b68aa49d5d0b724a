"""``GET /v1/cards/{card}/usage``: used and left of each kind, the validity end and "as of",
from the same balance read as ``GET /v1/cards/{card}/balance`` (one way to count)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.api.dependencies import identified, limit_card_reads
from tulpar.api.schemas.card_usage import CardUsage, KindUsage
from tulpar.balance import service as balance
from tulpar.kit.credentials import presented_credential
from tulpar.kit.session import read_only

router = APIRouter(prefix="/v1", tags=["balance"])

_PROBLEM: dict[str, object] = {"content": {"application/problem+json": {}}}
_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {**_PROBLEM, "description": "Missing or invalid credentials (`unauthorized`)"},
    404: {**_PROBLEM, "description": "Unknown card, or not this caller's (`card_not_found`)"},
    422: {**_PROBLEM, "description": "Not an ICCID or phone number (`invalid_card`)"},
    429: {
        **_PROBLEM,
        "description": "Too many reads of this card, counted with its balance reads, or the"
        " partner's own limit (`rate_limited`, `retry_after_seconds`)",
    },
}


@router.get("/cards/{card}/usage", response_model=CardUsage, responses=_REFUSALS)
async def card_usage(card: str, request: Request) -> CardUsage:
    """Granted, used and remaining data (bytes), voice (seconds) and SMS over the bundles
    valid now, the validity end, and the time these figures are exact as of: for the partner
    that sold the card, or the traveller holding it."""
    credential = presented_credential(request)

    def read(session: Session) -> balance.CardBalance:
        caller = identified(request, session, credential)
        limit_card_reads(request, caller, card)
        return balance.balance_for(session, caller, card)

    return usage_out(await read_only(request, read))


def _kind(allowance: balance.Allowance) -> KindUsage:
    if allowance.granted is None or allowance.remaining is None:
        return KindUsage(unlimited=True, granted=None, remaining=None, used=None)
    return KindUsage(
        unlimited=False,
        granted=allowance.granted,
        remaining=allowance.remaining,
        used=allowance.granted - allowance.remaining,
    )


def usage_out(found: balance.CardBalance) -> CardUsage:
    return CardUsage(
        iccid=found.iccid,
        state=found.state.value,
        validity_ends_at=found.validity_ends_at,
        validity_ends_at_local=None
        if found.validity_ends_at is None
        else clock.to_local(found.validity_ends_at),
        data_bytes=_kind(found.data_bytes),
        voice_seconds=_kind(found.voice_seconds),
        sms_count=_kind(found.sms_count),
        as_of=found.usage_as_of,
    )
