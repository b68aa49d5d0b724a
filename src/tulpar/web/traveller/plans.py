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
from tulpar.fulfilment import pricing
from tulpar.kit.session import DbSession
from tulpar.models import Channel, Plan
from tulpar.money import Money
from tulpar.order.checkout import OrderQuote
from tulpar.promotion.service import Offer
from tulpar.web.traveller import messages
from tulpar.web.traveller.card import my_card
from tulpar.web.traveller.pages import PageRoute, language_of, render, traveller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The price a traveller also sees in their own currency, where the plan has one.
HOME_CURRENCY = {"zh-Hans": "CNY", "en": "USD"}
PAYMENT_CURRENCY = "KZT"


@dataclass(frozen=True, slots=True)
class PlanOffer:
    plan: Plan
    quote: OrderQuote  # its renewal counts the promotion's bonus days
    home_price: Money | None  # e.g. CNY alongside KZT, indicative
    now: datetime
    price: Money  # what is paid, after the promotion
    promotion: Offer | None = None
    promotion_name: str | None = None  # in the page's language
    promo_code: str | None = None  # the code the traveller typed, applied
    promo_refusal: str | None = None  # why the typed code could not be used, to show

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


def offer(
    session: Session,
    caller: Caller,
    code: str,
    *,
    language: str,
    promo_code: str | None = None,
    payment_method: str | None = None,
) -> PlanOffer:
    """One plan for the traveller's card, quoted with the best promotion for it; refused
    like placing the order would be. A typed ``promo_code`` that cannot be used is not
    applied: ``promo_refusal`` says why, in ``language``."""
    card = card_service.get(session, caller.card_id or 0)
    typed = (promo_code or "").strip() or None
    refusal = None
    try:
        quote = pricing.quote(
            session,
            caller,
            card=card.iccid,
            plan=code,
            currency=PAYMENT_CURRENCY,
            promo_code=typed,
            payment_method=payment_method,
        )
    except TulparError as error:
        if typed is None or not error.code.startswith("promo_code_"):
            raise
        refusal, typed = messages.for_error(error, language), None
        quote = pricing.quote(
            session,
            caller,
            card=card.iccid,
            plan=code,
            currency=PAYMENT_CURRENCY,
            payment_method=payment_method,
        )
    return PlanOffer(
        plan=quote.base.plan,
        quote=quote.base,
        home_price=_home_price_after(quote, language),
        now=clock.now(),
        price=quote.price,
        promotion=quote.offer,
        promotion_name=None if quote.offer is None else quote.offer.name(language),
        promo_code=typed,
        promo_refusal=refusal,
    )


def _home_price_after(quote: pricing.Quote, language: str) -> Money | None:
    """The indicative home-currency price, lowered by the promotion's share of the price."""
    shown = home_price(quote.base.plan, language)
    if shown is None or quote.offer is None or not quote.offer.terms.discount_minor:
        return shown
    paid = shown.amount_minor * quote.price.amount_minor // quote.list_price.amount_minor
    return Money(paid, shown.currency)


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
    return sorted(found, key=lambda item: (item.price.amount_minor, item.plan.code))


@router.get("/plans")
def plans_page(request: Request, session: DbSession) -> Response:
    caller = traveller(session, request)
    view = my_card(session, caller)
    shown = offers(session, caller, language=language_of(request)) if view.can_renew else []
    return render(request, "plans.html", view=view, offers=shown, plans=plan_names_by_code(session))


def plan_names_by_code(session: Session) -> dict[str, dict[str, str]]:
    return {plan.code: dict(plan.names) for plan in catalog_service.all_plans(session)}
