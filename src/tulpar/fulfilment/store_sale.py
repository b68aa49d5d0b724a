"""A sale at a store's counter: a renewal or a wallet top-up, paid in cash or on the store's
card terminal, through the same order engine as every channel (channel ``store``). The money
is in hand when the clerk confirms, so the order is paid at once; then provisioning, the
confirmation SMS and the receipt follow exactly as online. The receipt is the store's own
(numbered without gaps per store), issued with the sale, and queued for fiscal registration.

Counter payment methods are never offered to checkout (``registry.can_take_payment`` knows
only wallet, sandbox and Stripe): only this module, for a store-channel staff caller, pays
with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar.audit import service as audit
from tulpar.auth import roles
from tulpar.auth.identity import Caller, CallerKind
from tulpar.card import service as card_service
from tulpar.counter import days, fiscal, repository
from tulpar.counter import receipts as counter_receipts
from tulpar.errors import ForbiddenError, InvalidInputError, TulparError
from tulpar.fulfilment import pricing
from tulpar.fulfilment.payments import on_payment
from tulpar.integrations.payments.protocol import PaymentRequest
from tulpar.integrations.payments.registry import provider_for
from tulpar.models import (
    Channel,
    CounterMethod,
    CounterSale,
    FiscalRegistration,
    Order,
    OrderKind,
    PaymentProviderName,
    Receipt,
)
from tulpar.order import checkout as order_checkout
from tulpar.order import service as order_service
from tulpar.order.checkout import OrderRequest
from tulpar.payment import service as payment_service
from tulpar.receipt import service as receipt_service
from tulpar.receipt.service import ReceiptLine

MAX_KEY_LENGTH = 120
MAX_TERMINAL_REFERENCE = 64
CURRENCY = "KZT"


class TerminalReferenceUsedError(TulparError):
    status = 409
    code = "terminal_reference_used"
    title = "This terminal slip is already recorded"


@dataclass(frozen=True, slots=True)
class Sale:
    order: Order
    receipt: Receipt
    registration: FiscalRegistration
    replayed: bool  # the same Idempotency-Key was sold already: nothing new was done


def sell(
    session: Session,
    caller: Caller,
    card: str,
    *,
    plan_code: str | None = None,
    top_up_amount: int | None = None,
    method: str,
    terminal_reference: str | None = None,
    idempotency_key: str,
    promo_code: str | None = None,
) -> Sale:
    """Sell ``plan_code`` (a renewal) or ``top_up_amount`` (minor units, wallet top-up) to
    ``card`` (ICCID or phone number), paid by ``method`` (``cash`` | ``card_terminal``, the
    latter with the terminal slip's reference), with the best promotion for it (``promo_code``
    optional; a bad one is refused with why). The same ``idempotency_key`` from the same
    clerk returns the first sale (a double click, a retried form). Refusals raise before
    anything is written. Never commits."""
    roles.require(caller, "store.sell")
    if caller.kind is not CallerKind.staff or caller.channel is not Channel.store:
        raise ForbiddenError("Counter sales are made by a store's staff")
    if caller.store_id is None or caller.staff_id is None:
        raise ForbiddenError("Counter sales are made by a store's staff")
    key = idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError("An Idempotency-Key has 1 to 120 characters")
    counter_method, reference = _method(method, terminal_reference)
    if (plan_code is None) == (top_up_amount is None):
        raise InvalidInputError("Sell either a plan or a wallet top-up")
    repository.lock_key(session, caller.staff_id, key)
    if (done := repository.sale_by_key(session, caller.staff_id, key)) is not None:
        return _replay(session, done)
    store = repository.store(session, caller.store_id)
    if store is None or not store.active:
        raise ForbiddenError("This store does not sell")
    day = days.business_date()
    days.ensure_open(session, store.id, caller.staff_id, day)
    if reference is not None:
        # One slip pays one sale (its reference is the payment's provider reference, unique).
        repository.lock_key(session, 0, f"terminal:{reference}")
        if repository.sale_by_terminal_reference(session, reference) is not None:
            raise TerminalReferenceUsedError(
                "This terminal slip reference is already recorded for another sale"
            )

    order = pricing.place(
        session,
        caller,
        OrderRequest(
            card=card,
            kind=OrderKind.plan_renewal if plan_code is not None else OrderKind.wallet_topup,
            plan=plan_code,
            amount_minor=top_up_amount,
            currency=CURRENCY,
            payment_provider=PaymentProviderName(counter_method.value),
            promo_code=promo_code,
        ),
    )
    valid_until: datetime | None = None
    if plan_code is not None:
        valid_until = order_checkout.quote(
            session,
            caller,
            card=card,
            plan=plan_code,
            currency=CURRENCY,
            bonus_days=order.bonus_days,
        ).renewal.validity_ends_at
    sale = CounterSale(
        order_id=order.id,
        store_id=store.id,
        staff_id=caller.staff_id,
        method=counter_method,
        terminal_reference=reference,
        idempotency_key=key,
        business_date=day,
    )
    session.add(sale)
    session.flush()
    # The store's receipt first (at the moment the money is taken, as the fiscal law wants):
    # the receipt the order engine issues once the order completes is then this one.
    receipt = receipt_service.issue(
        session,
        issuer=store.receipt_issuer,
        card_id=order.card_id,
        order_id=order.id,
        lines=[_line(session, order)],
        payment_method=counter_method.value,
        currency=order.currency,
        valid_until=valid_until,
        seller=counter_receipts.seller_of(store),
    )
    registration = fiscal.open_registration(session, receipt, store)
    _collect(session, order, counter_method, reference)
    audit.record(
        session,
        caller,
        "store.sell",
        subject=f"order:{order.id}",
        after={
            "card_id": order.card_id,
            "kind": order.kind.value,
            "plan": plan_code,
            "amount_minor": order.amount_minor,
            "currency": order.currency,
            "promotion_id": order.promotion_id,
            "discount_minor": order.discount_minor,
            "method": counter_method.value,
            "terminal_reference": reference,
            "receipt": receipt.number,
        },
    )
    return Sale(
        order=order_service.get(session, order.id),
        receipt=receipt,
        registration=registration,
        replayed=False,
    )


def _method(method: str, terminal_reference: str | None) -> tuple[CounterMethod, str | None]:
    try:
        counter_method = CounterMethod(method)
    except ValueError:
        raise InvalidInputError("Pay in cash or on the card terminal") from None
    reference = (terminal_reference or "").strip() or None
    if counter_method is CounterMethod.card_terminal:
        if reference is None or len(reference) > MAX_TERMINAL_REFERENCE:
            raise InvalidInputError("Enter the terminal slip's reference (up to 64 characters)")
        return counter_method, reference
    if reference is not None:
        raise InvalidInputError("A cash sale has no terminal reference")
    return counter_method, None


def _line(session: Session, order: Order) -> ReceiptLine:
    card = card_service.get(session, order.card_id)
    if order.kind is OrderKind.plan_renewal:
        plan = order_service.plan_of(session, order)
        return pricing.receipt_line(session, order, plan, language=card.language)
    return ReceiptLine("Wallet top-up", 1, order.amount_minor)


def _collect(session: Session, order: Order, method: CounterMethod, reference: str | None) -> None:
    """The money is in the till (or on the terminal's slip): the attempt succeeds at once
    and the order engine acts on it in this transaction (a renewal queued for provisioning,
    a top-up credited and completed)."""
    started = payment_service.start_attempt(
        session, order, provider=PaymentProviderName(method.value)
    )
    metadata = {"order_id": str(order.id), "payment_id": str(started.payment.id)}
    if reference is not None:
        metadata["terminal_reference"] = reference
    outcome = provider_for(method.value).create_payment(
        PaymentRequest(
            idempotency_key=started.payment.idempotency_key,
            amount_minor=order.amount_minor,
            currency=order.currency,
            description=f"Tulpar order {order.id}",
            metadata=metadata,
        )
    )
    report = payment_service.record_start(session, started.payment.id, outcome)
    assert report is not None
    on_payment(session, report)


def _replay(session: Session, done: CounterSale) -> Sale:
    receipt = receipt_service.for_order(session, done.order_id)
    assert receipt is not None
    registration = fiscal.of_receipt(session, receipt)
    assert registration is not None
    return Sale(
        order=order_service.get(session, done.order_id),
        receipt=receipt,
        registration=registration,
        replayed=True,
    )
