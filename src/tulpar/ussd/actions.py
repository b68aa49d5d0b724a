"""What a menu choice sets off, through the domains' services: renewing from the wallet (or
sending a payment link), sending the balance by SMS, choosing the language. Each returns the
state the dialogue moves to. Nothing slow happens here: SMS leave from jobs, provisioning
too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.errors import CardSuspendedError, CardTerminatedError, TulparError
from tulpar.fulfilment import checkout
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Card, Channel, OrderKind, PaymentProviderName, UssdSession
from tulpar.notification import service as notification_service
from tulpar.ussd import facts, links, menu
from tulpar.ussd.texts import Ending
from tulpar.wallet.service import WALLET_CURRENCY, InsufficientFundsError

LINK_MINUTES = int(links.LINK_LIFETIME.total_seconds() // 60)


def perform(session: Session, dialogue: UssdSession, card: Card, action: menu.Action) -> menu.State:
    match action:
        case menu.Pay(plan=plan):
            return pay(session, dialogue, card, plan)
        case menu.SendDetails():
            return send_details(session, dialogue, card)
        case menu.SetLanguage(language=language):
            return set_language(session, card, language)


def pay(session: Session, dialogue: UssdSession, card: Card, plan: str) -> menu.State:
    """Renew from the wallet when it covers the price; otherwise send a payment link by SMS.
    A dialogue places one order at most: a repeated "pay" answers with the same order."""
    if dialogue.order_id is not None:
        return menu.Ended(Ending.paid, order=dialogue.order_id)
    offer = facts.offer(session, card, plan)
    if offer is None:
        return menu.Ended(Ending.plan_unavailable)
    if offer.wallet_covers:
        try:
            # A refusal (even the wallet's, after the order row is written) leaves no trace.
            with session.begin_nested():
                placed = checkout.place(
                    session,
                    auth_service.traveller(card.id, channel=Channel.ussd),
                    checkout.OrderRequest(
                        card=card.iccid,
                        kind=OrderKind.plan_renewal,
                        plan=plan,
                        amount_minor=None,
                        currency=WALLET_CURRENCY,
                        payment_provider=PaymentProviderName.wallet,
                        promo_code=None,
                    ),
                )
        except InsufficientFundsError:
            pass  # spent meanwhile (another renewal): the link still works
        except CardTerminatedError:
            return menu.Ended(Ending.card_terminated)
        except CardSuspendedError:
            return menu.Ended(Ending.card_suspended)
        except TulparError:
            return menu.Ended(Ending.plan_unavailable)
        else:
            dialogue.order_id = placed.order.id
            return menu.Ended(Ending.paid, order=placed.order.id)
    return _send_link(session, dialogue, card, offer)


def _send_link(
    session: Session, dialogue: UssdSession, card: Card, offer: menu.Offer
) -> menu.State:
    token, _ = links.issue(card.id, offer.plan.code, now=clock.now())
    notification_service.queue_sms(
        session,
        card_id=card.id,
        template="ussd_payment_link",
        context={
            "plan": dict(offer.plan.names),
            "amount_minor": offer.price.amount_minor,
            "currency": offer.price.currency,
            "link": links.url(token),
        },
        dedupe_key=_dedupe_key(dialogue, f"payment_link:{offer.plan.code}"),
    )
    return menu.Ended(Ending.link_sent, minutes=LINK_MINUTES)


def send_details(session: Session, dialogue: UssdSession, card: Card) -> menu.State:
    """The full balance by SMS, once per dialogue however often it is asked for."""
    standing = facts.balance(session, card).standing
    notification_service.queue_sms(
        session,
        card_id=card.id,
        template="balance_reply" if standing is menu.Standing.active else "balance_reply_no_plan",
        context={},
        dedupe_key=_dedupe_key(dialogue, "balance"),
    )
    return menu.Ended(Ending.details_sent)


def set_language(session: Session, card: Card, language: str) -> menu.State:
    """The traveller's choice becomes the card's language: this menu, its SMS, every
    channel. (``card.service`` has no operation for it yet; this is the only writer.)"""
    if language in LANGUAGES and card.language != language:
        card.language = language
        session.flush()
    return menu.Home()


def _dedupe_key(dialogue: UssdSession, what: str) -> str:
    # The row and its start: an expired dialogue's row is reused when a gateway reuses its id.
    return f"ussd:{dialogue.id}:{dialogue.created_at:%Y%m%d%H%M%S%f}:{what}"
