from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.api.dependencies import identified, limit_card_reads
from tulpar.api.schemas.balance import Allowance, BundleSummary, CardBalance, MoneyAmount
from tulpar.balance import service as balance
from tulpar.kit.credentials import presented_credential
from tulpar.kit.session import read_only

router = APIRouter(prefix="/v1", tags=["balance"])


@router.get("/cards/{card}/balance", response_model=CardBalance)
async def card_balance(card: str, request: Request) -> CardBalance:
    """State, validity end and what is left on a card, by ICCID or phone number: for a
    partner, or for the traveller holding the card (any other card is 404)."""
    credential = presented_credential(request)

    # The caller and the balance in one thread step, two statements, no transaction.
    def read(session: Session) -> balance.CardBalance:
        caller = identified(request, session, credential)
        limit_card_reads(request, caller, card)
        return balance.balance_for(session, caller, card)

    return balance_out(await read_only(request, read))


def _allowance(allowance: balance.Allowance) -> Allowance:
    return Allowance(
        unlimited=allowance.unlimited, remaining=allowance.remaining, granted=allowance.granted
    )


def balance_out(found: balance.CardBalance) -> CardBalance:
    return CardBalance(
        iccid=found.iccid,
        msisdn=found.msisdn,
        state=found.state.value,
        validity_ends_at=found.validity_ends_at,
        validity_ends_at_local=None
        if found.validity_ends_at is None
        else clock.to_local(found.validity_ends_at),
        data_bytes=_allowance(found.data_bytes),
        voice_seconds=_allowance(found.voice_seconds),
        sms_count=_allowance(found.sms_count),
        wallet=MoneyAmount(amount_minor=found.wallet.amount_minor, currency=found.wallet.currency),
        bundles=[
            BundleSummary(
                id=bundle.id,
                plan_code=bundle.plan_code,
                state=bundle.state,
                starts_at=bundle.starts_at,
                expires_at=bundle.expires_at,
                data_bytes=_allowance(bundle.data_bytes),
                voice_seconds=_allowance(bundle.voice_seconds),
                sms_count=_allowance(bundle.sms_count),
            )
            for bundle in found.bundles
        ],
        usage_as_of=found.usage_as_of,
    )
