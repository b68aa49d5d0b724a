"""What support does to an order or a card, each decided on the caller, taking a reason and
leaving an audit record with the values before and after: retry provisioning, refund (whole
or part, through the provider that took the money), cancel; a manual credit or debit of the
wallet or an allowance (through the ledger), suspend and unsuspend, resend the last
confirmation, change the language. Plus finding orders and cards, and their timelines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import ALLOWANCE_KINDS, AllowanceKind
from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.errors import CardNotFoundError, InvalidInputError, TulparError
from tulpar.fulfilment import pricing, refunds, timeline
from tulpar.kit.languages import LANGUAGES
from tulpar.models import (
    Card,
    CardState,
    LedgerCause,
    Notification,
    Order,
    OrderKind,
    OrderState,
    Payment,
    ProvisioningState,
    Receipt,
    Refund,
    RefundState,
    Ticket,
    TicketEntry,
)
from tulpar.money import Money
from tulpar.notification import service as notification_service
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.provisioning import service as provisioning_service
from tulpar.support import access
from tulpar.support.tickets import reason_of
from tulpar.wallet import service as wallet_service


class ActionRefusedError(TulparError):
    status = 409
    code = "action_refused"
    title = "This action does not apply to the order or card as it is now"


class AmountInvalidError(InvalidInputError):
    code = "amount_invalid"
    title = "Give a whole amount other than zero"


# Finding


@dataclass(frozen=True, slots=True)
class Found:
    cards: list[Card]
    orders: list[Order]


def search(session: Session, caller: Caller, query: str) -> Found:
    """Orders and cards matching a card number (ICCID or phone), an order id, a payment's
    provider reference or a receipt number. The lookup is audited."""
    access.require(caller, "order.search")
    text = query.strip()
    if not text:
        return Found(cards=[], orders=[])
    cards: list[Card] = []
    with contextlib.suppress(CardNotFoundError, InvalidInputError):
        cards.append(card_service.find(session, text))
    order_ids: set[int] = set()
    digits = text.removeprefix("#")
    if digits.isdigit() and len(digits) < 12:
        order_ids.add(int(digits))
    order_ids.update(
        session.scalars(
            select(Receipt.order_id).where(Receipt.number == text, Receipt.order_id.is_not(None))
        ).all()  # type: ignore[arg-type]
    )
    order_ids.update(
        session.scalars(select(Payment.order_id).where(Payment.provider_reference == text)).all()
    )
    conditions: list[ColumnElement[bool]] = [Order.id.in_(order_ids)] if order_ids else []
    if cards:
        conditions.append(Order.card_id == cards[0].id)
    orders: list[Order] = []
    if conditions:
        orders = list(
            session.scalars(
                select(Order).where(or_(*conditions)).order_by(Order.id.desc()).limit(50)
            )
        )
    access.audit(
        session,
        caller,
        "order.search",
        subject=f"search:{text[:80]}",
        reason=None,
        before=None,
        after={"cards": [c.id for c in cards], "orders": [o.id for o in orders]},
    )
    return Found(cards=cards, orders=orders)


def order_for(session: Session, caller: Caller, order_id: int) -> Order:
    access.require(caller, "order.view")
    return order_service.get(session, order_id)


def card_for(session: Session, caller: Caller, card_id: int) -> Card:
    access.require(caller, "card.view")
    card = session.get(Card, card_id)
    if card is None:
        raise CardNotFoundError()
    # Every card lookup is in the audit log.
    access.audit(
        session,
        caller,
        "card.view",
        subject=f"card:{card.id}",
        reason=None,
        before=None,
        after={"state": card.state.value},
    )
    return card


# Timelines


def _at(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def order_timeline(session: Session, order: Order) -> list[dict[str, Any]]:
    """The order's story (events, carrier calls and callbacks) with its payment attempts,
    refunds, messages with their delivery state, and tickets, oldest first."""
    entries = timeline.of_order(session, order.id)
    for payment in session.scalars(select(Payment).where(Payment.order_id == order.id)):
        entries.append(
            {
                "at": _at(payment.created_at),
                "what": "payment_attempt",
                "provider": payment.provider.value,
                "state": payment.state.value,
                "amount_minor": payment.amount_minor,
                "currency": payment.currency,
                "reference": payment.provider_reference,
                "failure": payment.failure_message,
            }
        )
    for refund in session.scalars(select(Refund).where(Refund.order_id == order.id)):
        entries.append(
            {
                "at": _at(refund.created_at),
                "what": "refund",
                "number": refund.number,
                "state": refund.state.value,
                "amount_minor": refund.amount_minor,
                "currency": refund.currency,
                "reason": refund.reason,
                "failure": refund.failure_message,
            }
        )
    prefix = f"order:{order.id}:"
    refund_keys = [
        f"refund:{refund_id}:issued"
        for refund_id in session.scalars(select(Refund.id).where(Refund.order_id == order.id))
    ]
    messages = select(Notification).where(
        Notification.card_id == order.card_id,
        or_(Notification.dedupe_key.startswith(prefix), Notification.dedupe_key.in_(refund_keys)),
    )
    entries.extend(_message(notification) for notification in session.scalars(messages))
    for ticket in session.scalars(select(Ticket).where(Ticket.order_id == order.id)):
        entries.append(_ticket(ticket))
    return sorted(entries, key=lambda entry: entry["at"] or "")


def card_timeline(session: Session, card: Card, *, limit: int = 100) -> list[dict[str, Any]]:
    """The card's orders, messages and tickets, newest first."""
    entries: list[dict[str, Any]] = [
        {
            "at": _at(order.created_at),
            "what": "order",
            "order_id": order.id,
            "kind": order.kind.value,
            "state": order.state.value,
            "amount_minor": order.amount_minor,
            "currency": order.currency,
        }
        for order in session.scalars(
            select(Order).where(Order.card_id == card.id).order_by(Order.id.desc()).limit(limit)
        )
    ]
    entries.extend(_message(n) for n in notification_service.for_card(session, card.id)[:limit])
    entries.extend(
        _ticket(ticket)
        for ticket in session.scalars(select(Ticket).where(Ticket.card_id == card.id))
    )
    return sorted(entries, key=lambda entry: entry["at"] or "", reverse=True)[:limit]


def _message(notification: Notification) -> dict[str, Any]:
    return {
        "at": _at(notification.created_at),
        "what": "message",
        "template": notification.template,
        "language": notification.language,
        "state": notification.state.value,
        "delivery": notification.delivery_status,
        "body": notification.body,
    }


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "at": _at(ticket.created_at),
        "what": "ticket",
        "ticket_id": ticket.id,
        "kind": ticket.kind.value,
        "status": ticket.status.value,
        "subject": ticket.subject,
    }


# Order actions


def _order_values(session: Session, order: Order) -> dict[str, Any]:
    session.refresh(order)
    payment = refunds.paying_payment(session, order)
    return {
        "state": order.state.value,
        "refunded_minor": 0
        if payment is None
        else refunds.refunded_minor(session, payment, settled_only=False),
        "refundable_minor": refunds.refundable(session, order).amount_minor,
        "currency": order.currency,
    }


def retry_provisioning(session: Session, caller: Caller, order_id: int, *, reason: str) -> Order:
    """Apply a failed renewal again through the provisioning path (a new retry window).
    Refused, changing nothing, once any of its money went (or is going) back."""
    access.require(caller, "order.retry_provisioning")
    why = reason_of(reason)
    order = order_service.get(session, order_id, for_update=True)
    before = _order_values(session, order)
    if (
        order.kind is not OrderKind.plan_renewal
        or order.state is not OrderState.provisioning_failed
    ):
        raise ActionRefusedError("Only a renewal whose provisioning failed can be retried")
    if before["refunded_minor"]:
        raise ActionRefusedError("This order's payment was refunded; sell a new renewal")
    provisioning = provisioning_service.locked_for_order(session, order.id)
    if provisioning is None:
        raise ActionRefusedError("This order never reached the carrier")
    order_service.move(
        session,
        order.id,
        OrderMove.retry_provisioning,
        actor=caller.actor,
        reason=f"support: {why}",
        details={"staff_id": caller.staff_id},
    )
    now = clock.now()
    provisioning.state = ProvisioningState.in_progress
    # Apply again (rather than ask how the refused one went): same reference, so the carrier
    # still cannot apply it twice.
    provisioning.accepted_at = None
    provisioning.retry_until = now + timedelta(
        seconds=get_settings().provisioning_retry_window_seconds
    )
    provisioning.next_check_at = now
    session.flush()
    provisioning_service.defer(session, order, delay=timedelta())
    after = _order_values(session, order)
    access.audit(
        session,
        caller,
        "order.retry_provisioning",
        subject=f"order:{order.id}",
        reason=why,
        before=before,
        after=after,
    )
    return order


def refund(
    session: Session, caller: Caller, order_id: int, *, amount_minor: int | None, reason: str
) -> refunds.RefundRequested:
    """Refund all that is left (``amount_minor`` None) or a part of the order's payment."""
    access.require(caller, "order.refund")
    why = reason_of(reason)
    order = order_service.get(session, order_id, for_update=True)
    before = _order_values(session, order)
    requested = refunds.request_by_support(
        session, order, amount_minor=amount_minor, reason=f"support: {why}"
    )
    after = {**_order_values(session, order), "refund_id": requested.refund_id}
    access.audit(
        session,
        caller,
        "order.refund",
        subject=f"order:{order.id}",
        reason=why,
        before=before,
        after=after,
    )
    return requested


def cancel(session: Session, caller: Caller, order_id: int, *, reason: str) -> Order:
    """Cancel an order nobody has paid: it can no longer be paid from our pages."""
    access.require(caller, "order.cancel")
    why = reason_of(reason)
    order = order_service.get(session, order_id, for_update=True)
    before = _order_values(session, order)
    if not order_service.move(
        session,
        order.id,
        OrderMove.cancel,
        actor=caller.actor,
        reason=f"cancelled by support: {why}",
        details={"staff_id": caller.staff_id},
    ):
        raise ActionRefusedError("Only an unpaid order can be cancelled")
    pricing.give_back(session, order.id)
    access.audit(
        session,
        caller,
        "order.cancel",
        subject=f"order:{order.id}",
        reason=why,
        before=before,
        after=_order_values(session, order),
    )
    return order


# Card actions


def _card_values(session: Session, card: Card) -> dict[str, Any]:
    session.refresh(card)
    values: dict[str, Any] = {
        "state": card.state.value,
        "language": card.language,
        "wallet_minor": wallet_service.balance(session, card_id=card.id).amount_minor,
    }
    bundle = current_bundle(session, card)
    if bundle is not None:
        values["bundle_id"] = bundle.id
        for kind in ALLOWANCE_KINDS:
            values[f"{kind.account.value}_remaining"] = kind.remaining(bundle)
    return values


def current_bundle(session: Session, card: Card) -> Any:
    bundles = bundle_service.valid_bundles(session, card)
    return bundles[0] if bundles else None


@contextlib.contextmanager
def _audited_card_change(
    session: Session, caller: Caller, action: str, card: Card, why: str
) -> Iterator[None]:
    """The card's values before the block and after it, in one audit record of ``action``;
    a refusal raised inside the block records nothing."""
    before = _card_values(session, card)
    yield
    access.audit(
        session,
        caller,
        action,
        subject=f"card:{card.id}",
        reason=why,
        before=before,
        after=_card_values(session, card),
    )


def credit_wallet(
    session: Session, caller: Caller, card_id: int, *, amount_minor: int, reason: str
) -> Money:
    """Credit (positive) or debit (negative) the wallet; a debit never goes below zero."""
    access.require(caller, "card.credit_wallet")
    why = reason_of(reason)
    if amount_minor == 0:
        raise AmountInvalidError()
    card = card_service.get_for_update(session, card_id)
    with _audited_card_change(session, caller, "card.credit_wallet", card, why):
        balance = wallet_service.move(
            session,
            card_id=card.id,
            amount=Money(amount_minor, wallet_service.WALLET_CURRENCY),
            cause=LedgerCause.manual_credit,
            actor=caller.actor,
            reason=why,
        )
    return balance


def _allowance(account: str) -> AllowanceKind:
    for kind in ALLOWANCE_KINDS:
        if kind.account.value == account:
            return kind
    raise InvalidInputError(f"No allowance {account!r}")


def adjust_allowance(
    session: Session, caller: Caller, card_id: int, *, account: str, delta: int, reason: str
) -> int | None:
    """Move one allowance (data bytes, voice seconds, SMS) of the current bundle by
    ``delta``; a debit stops at zero. Returns what remains."""
    access.require(caller, "card.adjust_allowance")
    why = reason_of(reason)
    kind = _allowance(account)
    if delta == 0:
        raise AmountInvalidError()
    card = card_service.get_for_update(session, card_id)
    bundle = current_bundle(session, card)
    if bundle is None:
        raise ActionRefusedError("The card has no bundle running")
    if kind.remaining(bundle) is None:
        raise ActionRefusedError("This allowance is unlimited")
    with _audited_card_change(session, caller, "card.adjust_allowance", card, why):
        bundle_service.adjust(
            session,
            bundle,
            kind,
            delta=delta,
            cause=LedgerCause.manual_credit,
            actor=caller.actor,
            reason=why,
        )
    return kind.remaining(bundle)


def suspend(session: Session, caller: Caller, card_id: int, *, reason: str) -> Card:
    """Suspend a card: renewals are refused until support lifts it."""
    access.require(caller, "card.suspend")
    why = reason_of(reason)
    card = card_service.get_for_update(session, card_id)
    if card.state in (CardState.suspended, CardState.terminated):
        raise ActionRefusedError(f"The card is {card.state.value}")
    with _audited_card_change(session, caller, "card.suspend", card, why):
        card.state = CardState.suspended
        card.state_changed_at = clock.now()
        session.flush()
    return card


def unsuspend(session: Session, caller: Caller, card_id: int, *, reason: str) -> Card:
    """Lift a suspension: the card is active again if its validity runs, else expired
    (or issued, when it never had a plan)."""
    access.require(caller, "card.unsuspend")
    why = reason_of(reason)
    card = card_service.get_for_update(session, card_id)
    if card.state is not CardState.suspended:
        raise ActionRefusedError("The card is not suspended")
    now = clock.now()
    with _audited_card_change(session, caller, "card.unsuspend", card, why):
        if card.validity_ends_at is None:
            card.state = CardState.issued
        elif card.validity_ends_at > now:
            card.state = CardState.active
        else:
            card.state = CardState.expired
        card.state_changed_at = now
        session.flush()
    return card


def resend_confirmation(
    session: Session, caller: Caller, card_id: int, *, reason: str
) -> Notification:
    """Send the confirmation of the card's last completed order again, with the balances of
    now, in the card's language."""
    access.require(caller, "card.resend_confirmation")
    why = reason_of(reason)
    card = card_service.get_for_update(session, card_id)
    order = session.scalars(
        select(Order)
        .where(Order.card_id == card.id, Order.state == OrderState.completed)
        .order_by(Order.state_changed_at.desc(), Order.id.desc())
        .limit(1)
    ).first()
    if order is None:
        raise ActionRefusedError("The card has no completed order to confirm")
    sent_before = session.scalars(
        select(Notification.id).where(
            Notification.dedupe_key.startswith(f"order:{order.id}:resent:")
        )
    ).all()
    if order.kind is OrderKind.plan_renewal:
        template = "renewal_confirmed"
        context: dict[str, object] = {"plan": order_service.plan_of(session, order).names}
    else:
        template = "topup_confirmed"
        context = {
            "amount_minor": order.amount_minor,
            "currency": order.currency,
            "wallet_minor": wallet_service.balance(session, card_id=card.id).amount_minor,
        }
    notification = notification_service.queue_sms(
        session,
        card_id=card.id,
        template=template,
        context=context,
        dedupe_key=f"order:{order.id}:resent:{len(sent_before) + 1}",
    )
    if notification is None:
        raise ActionRefusedError("The card has no phone number")
    access.audit(
        session,
        caller,
        "card.resend_confirmation",
        subject=f"card:{card.id}",
        reason=why,
        before={"resent": len(sent_before)},
        after={
            "resent": len(sent_before) + 1,
            "order_id": order.id,
            "notification_id": notification.id,
        },
    )
    return notification


def change_language(
    session: Session, caller: Caller, card_id: int, *, language: str, reason: str
) -> Card:
    access.require(caller, "card.change_language")
    why = reason_of(reason)
    if language not in LANGUAGES:
        raise InvalidInputError(f"Choose one of {', '.join(LANGUAGES)}")
    card = card_service.get_for_update(session, card_id)
    before = {"language": card.language}
    card.language = language
    session.flush()
    access.audit(
        session,
        caller,
        "card.change_language",
        subject=f"card:{card.id}",
        reason=why,
        before=before,
        after={"language": language},
    )
    return card


def ticket_history(session: Session, ticket: Ticket) -> dict[str, list[Any]]:
    """What a ticket page shows beside it: the order's timeline and the card's."""
    order = None if ticket.order_id is None else order_service.get(session, ticket.order_id)
    card = session.get(Card, ticket.card_id)
    entries = list(
        session.scalars(
            select(TicketEntry).where(TicketEntry.ticket_id == ticket.id).order_by(TicketEntry.id)
        )
    )
    return {
        "order": [] if order is None else order_timeline(session, order),
        "card": [] if card is None else card_timeline(session, card),
        "entries": entries,
    }


__all__ = ["RefundState"]
