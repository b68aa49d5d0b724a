"""Page 2, my card: state, validity with a countdown, what is left (with bars), the wallet,
queued bundles, and a clear call to renew when the card needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.balance import service as balance_service
from tulpar.balance.service import Allowance, BundleBalance, CardBalance
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.identifiers import Iccid
from tulpar.kit.session import DbSession
from tulpar.models import CardState
from tulpar.web.traveller.pages import PageRoute, render, traveller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# When the page calls for renewal: under 72 h of validity or a quarter of the data left.
RENEW_WITHIN = timedelta(hours=72)
RENEW_BELOW_DATA_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class Left:
    """One allowance as the page shows it: ``fraction`` of what was granted, for the bar."""

    kind: str  # data | voice | sms
    allowance: Allowance

    @property
    def fraction(self) -> float:
        granted, remaining = self.allowance.granted, self.allowance.remaining
        if not granted or remaining is None:
            return 1.0
        return max(0.0, min(1.0, remaining / granted))


@dataclass(frozen=True, slots=True)
class CardView:
    balance: CardBalance
    card_masked: str
    now: datetime
    grace_ends_at: datetime | None
    allowances: list[Left]
    current: list[BundleBalance]
    queued: list[BundleBalance]
    renew_now: bool  # the strong call to renew
    can_renew: bool

    @property
    def state(self) -> str:
        return self.balance.state.value


def card_view(balance: CardBalance, *, now: datetime) -> CardView:
    state = balance.state
    ends_at = balance.validity_ends_at
    data = Left("data", balance.data_bytes)
    low_on_time = ends_at is not None and ends_at - now < RENEW_WITHIN
    low_on_data = not data.allowance.unlimited and data.fraction < RENEW_BELOW_DATA_FRACTION
    renewable = state not in (CardState.terminated, CardState.suspended)
    return CardView(
        balance=balance,
        card_masked=Iccid(balance.iccid).masked(),
        now=now,
        grace_ends_at=None
        if ends_at is None or state is not CardState.expired
        else ends_at + card_service.grace_period(),
        allowances=[data, Left("voice", balance.voice_seconds), Left("sms", balance.sms_count)],
        current=[bundle for bundle in balance.bundles if bundle.state in ("active", "exhausted")],
        queued=[bundle for bundle in balance.bundles if bundle.state == "scheduled"],
        renew_now=renewable
        and (
            state is CardState.expired
            or ends_at is None
            or (state is CardState.active and (low_on_time or low_on_data))
        ),
        can_renew=renewable,
    )


def my_card(session: Session, caller: Caller) -> CardView:
    card = card_service.get(session, caller.card_id or 0)
    balance = balance_service.balance_for(session, caller, card.iccid)
    return card_view(balance, now=clock.now())


@router.get("/card")
def card_page(request: Request, session: DbSession) -> Response:
    view = my_card(session, traveller(session, request))
    names = {plan.code: dict(plan.names) for plan in catalog_service.all_plans(session)}
    return render(request, "card.html", view=view, plans=names)
