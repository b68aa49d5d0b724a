"""Page 3, choose a plan: only the plans this card can buy on the web, each with the quote
from the policy code the engine applies (new validity end, what carries over, what is lost)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.bundle.policy import Allowances
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.errors import TulparError
from tulpar.kit.session import DbSession
from tulpar.models import Channel, Plan
from tulpar.money import Money
from tulpar.order import checkout as order_checkout
from tulpar.order.checkout import OrderQuote
from tulpar.web.traveller.card import my_card
from tulpar.web.traveller.pages import PageRoute, language_of, render, traveller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The price a traveller also sees in their own currency, where the plan has one.
HOME_CURRENCY = {"zh-Hans": "CNY", "en": "USD"}
PAYMENT_CURRENCY = "KZT"


@dataclass(frozen=True, slots=True)
class PlanOffer:
    plan: Plan
    quote: OrderQuote
    home_price: Money | None  # e.g. CNY alongside KZT, indicative
    now: datetime

    @property
    def starts_later(self) -> bool:
        return self.quote.renewal.starts_at > self.now

    @property
    def carried(self) -> list[tuple[str, int]]:
        """What carries into the new plan, per kind (``data``, ``voice``, ``sms``)."""
        amounts = _by_kind(self.quote.renewal.carried_over)
        return [(kind, value) for kind, value in amounts if value]

    @property
    def forfeited(self) -> list[tuple[str, int | None]]:
        """What is lost, per kind; ``None``: an unlimited allowance given up early."""
        amounts = _by_kind(self.quote.renewal.forfeited)
        return [(kind, value) for kind, value in amounts if value is None or value > 0]


def _by_kind(amounts: Allowances) -> list[tuple[str, int | None]]:
    return [
        ("data", amounts.data_bytes),
        ("voice", amounts.voice_seconds),
        ("sms", amounts.sms_count),
    ]


def home_price(plan: Plan, language: str) -> Money | None:
    currency = HOME_CURRENCY.get(language)
    return None if currency is None else catalog_service.price_of(plan, currency)


def offer(session: Session, caller: Caller, code: str, *, language: str) -> PlanOffer:
    """One plan for the traveller's card, quoted; refused like placing the order would be."""
    card = card_service.get(session, caller.card_id or 0)
    quote = order_checkout.quote(
        session, caller, card=card.iccid, plan=code, currency=PAYMENT_CURRENCY
    )
    return PlanOffer(
        plan=quote.plan,
        quote=quote,
        home_price=home_price(quote.plan, language),
        now=clock.now(),
    )


def offers(session: Session, caller: Caller, *, language: str) -> list[PlanOffer]:
    """Every plan sold on the web that this card can buy now, cheapest first."""
    found = []
    for plan in catalog_service.sellable_plans(session, channel=Channel.web):
        try:
            found.append(offer(session, caller, plan.code, language=language))
        except TulparError as error:
            if error.code in ("plan_not_on_channel", "currency_not_offered"):
                continue
            raise
    return sorted(found, key=lambda item: (item.quote.price.amount_minor, item.plan.code))


@router.get("/plans")
def plans_page(request: Request, session: DbSession) -> Response:
    caller = traveller(session, request)
    view = my_card(session, caller)
    shown = offers(session, caller, language=language_of(request)) if view.can_renew else []
    return render(request, "plans.html", view=view, offers=shown, plans=plan_names_by_code(session))


def plan_names_by_code(session: Session) -> dict[str, dict[str, str]]:
    return {plan.code: dict(plan.names) for plan in catalog_service.all_plans(session)}
