"""Find a card at the counter by ICCID or phone number: no SMS code (the clerk is signed in),
and every lookup is in the audit log (``card.lookup``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.audit import service as audit
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.balance import service as balance_service
from tulpar.balance.service import CardBalance
from tulpar.card import service as card_service
from tulpar.counter import days, repository
from tulpar.models import Card, CounterMethod


@dataclass(frozen=True, slots=True)
class HandBack:
    """Money of a counter sale refunded today (e.g. provisioning failed): the refund is
    recorded as done, so the clerk hands the cash back (or reverses it on the terminal)."""

    order_id: int
    method: CounterMethod
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class FoundCard:
    card: Card
    balance: CardBalance
    hand_back: tuple[HandBack, ...] = ()


def find_card(session: Session, caller: Caller, reference: str) -> FoundCard:
    """The card for ``reference`` (ICCID, or a phone number in any usual form:
    ``8 701 …``, ``+7 701 …``) with its state, validity and balances. Raises 404 for an
    unknown card, 422 for something that is neither."""
    roles.require(caller, "card.lookup")
    card = card_service.find(session, reference.strip())
    audit.record(
        session,
        caller,
        "card.lookup",
        subject=f"card:{card.id}",
        after={"reference": "iccid" if card.iccid in reference.replace(" ", "") else "msisdn"},
    )
    return FoundCard(card=card, balance=balance_service.balance_of(session, card))


def view_card(session: Session, caller: Caller, card_id: int) -> FoundCard:
    """A card already found (its page after a sale); audited as a lookup too."""
    roles.require(caller, "card.lookup")
    card = card_service.get(session, card_id)
    audit.record(session, caller, "card.lookup", subject=f"card:{card.id}")
    hand_back = tuple(
        HandBack(
            order_id=refund.order_id,
            method=sale.method,
            amount_minor=refund.amount_minor,
            currency=refund.currency,
        )
        for refund, sale in repository.card_refunds_on(session, card.id, days.business_date())
    )
    return FoundCard(
        card=card, balance=balance_service.balance_of(session, card), hand_back=hand_back
    )
