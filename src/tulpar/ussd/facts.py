"""What the menu shows, read through the domains' services: balance, the plans this card can
buy on the ``ussd`` channel, one plan's renewal quote."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.balance import service as balance_service
from tulpar.bundle import service as bundle_service
from tulpar.bundle.policy import Allowances
from tulpar.card import service as card_service
from tulpar.catalog import service as catalog_service
from tulpar.errors import TulparError
from tulpar.fulfilment import pricing
from tulpar.models import Card, CardState, Channel, PaymentProviderName, Plan
from tulpar.money import Money
from tulpar.ussd import links, menu
from tulpar.wallet import service as wallet_service
from tulpar.wallet.service import WALLET_CURRENCY


def for_state(session: Session, card: Card, state: menu.State) -> menu.Facts:
    """Only what ``state``'s screen needs: a request reads no more than it shows."""
    match state:
        case menu.Home():
            return menu.Facts(balance=balance(session, card))
        case menu.PlanList():
            return menu.Facts(plans=[offer for _, offer in plans(session)])
        case menu.Confirm(plan=code):
            return menu.Facts(offer=offer(session, card, code))
        case _:
            return menu.Facts()


def balance(session: Session, card: Card) -> menu.Balance:
    shown = balance_service.balance_of(session, card)
    ends_at = shown.validity_ends_at
    if shown.state is CardState.active and ends_at is not None:
        standing, renewable_until = menu.Standing.active, None
    elif shown.state is CardState.expired and ends_at is not None:
        standing, renewable_until = menu.Standing.expired, ends_at + card_service.grace_period()
    else:
        standing, renewable_until = menu.Standing.no_plan, None
    return menu.Balance(
        standing=standing,
        validity_ends_at=ends_at,
        renewable_until=renewable_until,
        left=menu.Amounts(
            shown.data_bytes.remaining, shown.voice_seconds.remaining, shown.sms_count.remaining
        ),
        wallet=shown.wallet,
    )


def plans(session: Session) -> list[tuple[Plan, menu.PlanOffer]]:
    """Plans on sale on the ``ussd`` channel with a price in the wallet's currency (what the
    wallet and the payment link both charge), in the catalog's order."""
    offers = []
    for plan in catalog_service.sellable_plans(session, channel=Channel.ussd):
        price = catalog_service.price_of(plan, WALLET_CURRENCY)
        if price is not None:
            offers.append((plan, menu.PlanOffer(code=plan.code, names=plan.names, price=price)))
    return offers


def offer(session: Session, card: Card, code: str) -> menu.Offer | None:
    """The quote for renewing ``card`` with plan ``code``; ``None`` if it is not on sale here."""
    found = next(((plan, offer) for plan, offer in plans(session) if plan.code == code), None)
    if found is None:
        return None
    plan, plan_offer = found
    wallet = wallet_service.balance(session, card_id=card.id)
    priced = _with_promotion(session, card, plan, wallet)
    if priced is None:
        # Not renewable now (terminated, suspended …): the confirmation still shows the plan,
        # and paying says why it cannot be done.
        renewal, promotion = bundle_service.quote(session, card, plan, now=clock.now()), None
    else:
        renewal, promotion = priced.base.renewal, _promotion(priced)
    return menu.Offer(
        plan=plan_offer,
        validity_ends_at=renewal.validity_ends_at,
        carried_over=_amounts(renewal.carried_over),
        forfeited=_amounts(renewal.forfeited),
        wallet=wallet,
        promotion=promotion,
    )


def _with_promotion(
    session: Session, card: Card, plan: Plan, wallet: Money
) -> pricing.Quote | None:
    """The quote with the best automatic promotion, as the order will be placed: from the
    wallet on this channel when the wallet covers the promoted price (so a wallet-only
    promotion counts), else as the payment link places it (web channel, sandbox page)."""
    try:
        by_wallet = pricing.quote(
            session,
            auth_service.traveller(card.id, channel=Channel.ussd),
            card=card.iccid,
            plan=plan.code,
            currency=WALLET_CURRENCY,
            payment_method=PaymentProviderName.wallet.value,
        )
        if wallet.amount_minor >= by_wallet.price.amount_minor:
            return by_wallet
        return pricing.quote(
            session,
            auth_service.traveller(card.id, channel=links.CHECKOUT_CHANNEL),
            card=card.iccid,
            plan=plan.code,
            currency=WALLET_CURRENCY,
            payment_method=links.CHECKOUT_PROVIDER.value,
        )
    except TulparError:
        return None


def _promotion(quote: pricing.Quote) -> menu.Promotion | None:
    if quote.offer is None:
        return None
    terms = quote.offer.terms
    return menu.Promotion(
        names=quote.offer.names,
        discount=Money(terms.discount_minor, quote.price.currency),
        bonus_data_bytes=terms.bonus_data_bytes,
        bonus_days=terms.bonus_days,
    )


def _amounts(allowances: Allowances) -> menu.Amounts:
    return menu.Amounts(allowances.data_bytes, allowances.voice_seconds, allowances.sms_count)
