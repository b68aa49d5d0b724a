"""Selling at the counter: paid at once through the order engine, the store's own receipt,
exactly once under a double submit, and never with counter money outside the store."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.counter.conftest import Counter
from tulpar.auth import service as auth_service
from tulpar.errors import ForbiddenError, InvalidInputError, TulparError
from tulpar.fulfilment import checkout, store_sale
from tulpar.models import (
    AuditEntry,
    Channel,
    CounterSale,
    Order,
    OrderKind,
    OrderState,
    Payment,
    PaymentProviderName,
    PaymentState,
    Receipt,
)
from tulpar.order.checkout import OrderRequest
from tulpar.wallet import service as wallet_service


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_cash_renewal_is_paid_at_once_with_the_store_receipt(
    session: Session, counter: Counter
) -> None:
    sale = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="form-1",
    )
    assert sale.order.channel is Channel.store
    assert sale.order.state is OrderState.provisioning or sale.order.state is OrderState.paid
    payment = session.scalars(select(Payment).where(Payment.order_id == sale.order.id)).one()
    assert payment.provider is PaymentProviderName.cash
    assert payment.state is PaymentState.succeeded
    assert sale.receipt.issuer == counter.store.receipt_issuer
    assert sale.receipt.number == f"{counter.store.receipt_issuer}-000001"
    assert sale.receipt.payment_method == "cash"
    assert sale.receipt.total_minor == 350_000
    assert sale.receipt.lines[0]["valid_until"]  # the quote's new validity end
    assert sale.registration.state.value == "pending"
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "store.sell" in actions


def test_terminal_needs_its_reference_and_cash_has_none(session: Session, counter: Counter) -> None:
    before = count(session, Order)
    with pytest.raises(InvalidInputError):
        store_sale.sell(
            session,
            counter.caller,
            counter.card.iccid,
            plan_code=counter.plan.code,
            method="card_terminal",
            idempotency_key="k",
        )
    with pytest.raises(InvalidInputError):
        store_sale.sell(
            session,
            counter.caller,
            counter.card.iccid,
            plan_code=counter.plan.code,
            method="cash",
            terminal_reference="RRN1",
            idempotency_key="k",
        )
    assert count(session, Order) == before
    sale = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="card_terminal",
        terminal_reference=" RRN-000123 ",
        idempotency_key="k",
    )
    payment = session.scalars(select(Payment).where(Payment.order_id == sale.order.id)).one()
    assert payment.provider_reference == "card_terminal:RRN-000123"
    assert session.scalars(select(CounterSale.terminal_reference)).one() == "RRN-000123"


def test_top_up_by_phone_number_credits_the_wallet(session: Session, counter: Counter) -> None:
    counter.card.msisdn = "+77011234567"
    session.flush()
    sale = store_sale.sell(
        session,
        counter.caller,
        "8 701 123 45 67",
        top_up_amount=200_000,
        method="cash",
        idempotency_key="t1",
    )
    assert sale.order.kind is OrderKind.wallet_topup
    assert sale.order.state is OrderState.completed
    assert wallet_service.balance(session, card_id=counter.card.id).amount_minor == 200_000
    assert count(session, Receipt) == 1  # the store's receipt, not a second one


def test_same_key_is_the_same_sale(session: Session, counter: Counter) -> None:
    first = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="double",
    )
    again = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="double",
    )
    assert again.replayed
    assert again.order.id == first.order.id
    assert again.receipt.id == first.receipt.id
    assert count(session, Order) == 1
    assert count(session, Payment) == 1


@pytest.mark.parametrize("role", ["support", "admin"])
def test_operator_roles_sell_on_no_counter(session: Session, counter: Counter, role: str) -> None:
    from tests.counter.conftest import make_staff

    caller = auth_service.staff(make_staff(session, role, None))
    before = count(session, Order)
    with pytest.raises(ForbiddenError):
        store_sale.sell(
            session,
            caller,
            counter.card.iccid,
            plan_code=counter.plan.code,
            method="cash",
            idempotency_key="x",
        )
    assert count(session, Order) == before


@pytest.mark.parametrize("method", ["cash", "card_terminal"])
def test_checkout_never_takes_counter_money(
    session: Session, counter: Counter, method: str
) -> None:
    for caller in (auth_service.traveller(counter.card.id), counter.caller):
        with pytest.raises(TulparError) as refused:
            checkout.place(
                session,
                caller,
                OrderRequest(
                    card=counter.card.iccid,
                    kind=OrderKind.plan_renewal,
                    plan=counter.plan.code,
                    amount_minor=None,
                    currency="KZT",
                    payment_provider=PaymentProviderName(method),
                    promo_code=None,
                ),
            )
        assert refused.value.status == 422
    assert count(session, Order) == 0
