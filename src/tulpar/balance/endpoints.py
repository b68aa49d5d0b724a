from __future__ import annotations

from fastapi import APIRouter

from tulpar.balance import service
from tulpar.balance.schemas import CardBalance
from tulpar.web.dependencies import DbSession, PartnerCaller

router = APIRouter(prefix="/v1", tags=["balance"])


@router.get("/cards/{card}/balance", response_model=CardBalance)
def card_balance(card: str, session: DbSession, caller: PartnerCaller) -> CardBalance:
    """State, validity end and what is left on a card, by ICCID or phone number."""
    return service.balance_for(session, card)
