"""Rows for the report fixtures, written directly: the reports read what the domains wrote,
so each fixture states exactly the rows it counts (and the figures are counted by hand)."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar.auth import service as auth_service
from tulpar.models import (
    CounterMethod,
    CounterSale,
    Notification,
    NotificationState,
    Order,
    OrderEvent,
    OrderKind,
    OrderState,
    Payment,
    PaymentProviderName,
    PaymentState,
    Refund,
    RefundState,
)
from tulpar.models.plan import Channel
from tulpar.store import service as store_service

_keys = itertools.count(1)


def order(
    session: Session,
    *,
    card_id: int,
    at: datetime,
    amount_minor: int,
    currency: str = "KZT",
    plan_id: int | None = None,
    channel: str = "web",
    state: str = "completed",
    paid: bool = True,
    reasons: Sequence[str] = (),
    discount_minor: int = 0,
    bonus_data_bytes: int = 0,
    bonus_days: int = 0,
) -> Order:
    """An order placed ``at``; ``paid`` gives it a succeeded payment; each of ``reasons``
    writes an event into ``state``, the last one the newest."""
    placed = Order(
        card_id=card_id,
        kind=OrderKind.plan_renewal if plan_id else OrderKind.wallet_topup,
        plan_id=plan_id,
        channel=Channel(channel),
        state=OrderState(state),
        amount_minor=amount_minor,
        currency=currency,
        payment_provider="sandbox",
        placed_by="test",
        payable_until=at + timedelta(minutes=30),
        state_changed_at=at,
        created_at=at,
        discount_minor=discount_minor,
        bonus_data_bytes=bonus_data_bytes,
        bonus_days=bonus_days,
    )
    session.add(placed)
    session.flush()
    if paid:
        payment = Payment(
            order_id=placed.id,
            card_id=card_id,
            attempt=1,
            provider=PaymentProviderName.sandbox,
            state=PaymentState.succeeded,
            idempotency_key=f"report-test-{next(_keys)}",
            amount_minor=amount_minor,
            currency=currency,
            succeeded_at=at,
            checked_at=at,
        )
        session.add(payment)
        session.flush()
        placed.paid_payment_id = payment.id
    for reason in reasons:
        session.add(
            OrderEvent(
                order_id=placed.id,
                card_id=card_id,
                from_state=None,
                to_state=OrderState(state),
                actor="test",
                reason=reason,
                details={},
                occurred_at=at,
            )
        )
        session.flush()
    session.flush()
    return placed


def refund(session: Session, placed: Order, amount_minor: int, *, state: str = "succeeded") -> None:
    assert placed.paid_payment_id is not None
    number = next(_keys)
    session.add(
        Refund(
            payment_id=placed.paid_payment_id,
            order_id=placed.id,
            number=number,
            state=RefundState(state),
            amount_minor=amount_minor,
            currency=placed.currency,
            reason="test",
            idempotency_key=f"report-refund-{number}",
        )
    )
    session.flush()


def store_sale(session: Session, placed: Order, *, store_code: str, staff_id: int) -> None:
    store = store_service.create_store(
        session,
        auth_service.command_line(),
        code=store_code,
        name="Report test store",
        city="Almaty",
        address="Abay Ave 2",
        opening_hours="09:00–21:00",
        legal_name="Tulpar Retail LLP",
        bin="123456789012",
    )
    session.add(
        CounterSale(
            order_id=placed.id,
            store_id=store.id,
            staff_id=staff_id,
            method=CounterMethod.cash,
            idempotency_key=f"report-sale-{next(_keys)}",
            business_date=placed.created_at.date(),
        )
    )
    session.flush()


def table(html: str) -> list[list[str]]:
    """The report table's body cells, as the page shows them."""
    body = html.split('data-test="report"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, rows


def sms(
    session: Session,
    card_id: int,
    *,
    template: str,
    at: datetime,
    sent: bool = True,
) -> None:
    session.add(
        Notification(
            card_id=card_id,
            template=template,
            language="en",
            recipient="+77010000000",
            body="x",
            encoding="gsm7",
            segment_count=1,
            dedupe_key=f"report-test:{next(_keys)}",
            state=NotificationState.sent if sent else NotificationState.queued,
            provider="smpp" if sent else None,
            sent_at=at if sent else None,
            created_at=at,
        )
    )
    session.flush()
