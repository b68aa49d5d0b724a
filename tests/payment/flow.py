"""Shared steps of the payment tests, driven through HTTP against a live loopback server."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card, create_plan
from tests.fixtures.payments import partner_headers
from tulpar.models import CardState, InboxMessage, Order, OrderEvent, Payment


def seed(
    factory: sessionmaker[Session], *, price_minor: int = 3_500_00
) -> tuple[str, dict[str, str]]:
    """An active card, plan ``P`` and a partner key, committed. Returns (iccid, headers)."""
    with factory() as session:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P", prices_minor={"KZT": price_minor, "CNY": 52_00, "USD": 7_00})
        headers = partner_headers(session)
        session.commit()
        return card.iccid, headers


def place(base: str, headers: dict[str, str], iccid: str, *, key: str = "k", **extra: Any) -> Any:
    response = httpx.post(
        f"{base}/v1/orders",
        json={"card": iccid, "plan": "P", **extra},
        headers={**headers, "Idempotency-Key": key},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()


def pay_page(base: str, order_body: dict[str, Any]) -> str:
    """The pay page path of the order's latest attempt, on the live server."""
    return str(urlsplit(order_body["payment"]["next_action"]["url"]).path)


def click(base: str, page: str, decision: str) -> None:
    response = httpx.post(f"{base}{page}", data={"decision": decision}, timeout=30)
    assert response.status_code == 303, response.text


def order_state(factory: sessionmaker[Session], order_id: int) -> str:
    with factory() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.state.value


def timeline(factory: sessionmaker[Session], order_id: int) -> list[tuple[str | None, str]]:
    with factory() as session:
        events = session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        return [
            (None if e.from_state is None else e.from_state.value, e.to_state.value) for e in events
        ]


def payment_states(factory: sessionmaker[Session], order_id: int) -> list[str]:
    with factory() as session:
        rows = session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt)
        )
        return [p.state.value for p in rows]


def count(factory: sessionmaker[Session], sql: str, **params: Any) -> int:
    with factory() as session:
        return int(session.execute(text(sql), params).scalar_one())


def webhook_rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(InboxMessage)) or 0)


def provisioning_jobs(factory: sessionmaker[Session], order_id: int) -> int:
    return count(
        factory,
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'provisioning.apply'"
        " AND (args->>'order_id')::bigint = :order_id",
        order_id=order_id,
    )
