"""Partners, their cards and orders, and walking the API's pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tulpar.models import Card, Channel, Order, OrderKind, OrderState, Plan
from tulpar.partner import service as partner_service


def partner(session: Session, name: str) -> tuple[int, dict[str, str]]:
    """A reseller and the headers of its key."""
    created, key = partner_service.create_key(session, name, scopes=["partner"])
    return created.id, {"Authorization": f"Bearer {key}"}


def create_order(
    session: Session,
    *,
    card: Card,
    plan: Plan,
    partner_id: int | None,
    created_at: datetime,
    state: OrderState = OrderState.completed,
) -> Order:
    order = Order(
        card_id=card.id,
        kind=OrderKind.plan_renewal,
        plan_id=plan.id,
        channel=Channel.api,
        state=state,
        amount_minor=3_500_00,
        currency="KZT",
        payment_provider="sandbox",
        partner_id=partner_id,
        placed_by=f"partner:{partner_id}",
        payable_until=created_at + timedelta(minutes=30),
        state_changed_at=created_at,
        created_at=created_at,
    )
    session.add(order)
    session.flush()
    return order


def walk(
    client: TestClient,
    path: str,
    headers: dict[str, str],
    *,
    limit: int,
    filters: dict[str, str] | None = None,
    between_pages: Callable[[int], None] = lambda page: None,
) -> list[list[dict[str, Any]]]:
    """Every page of ``path`` (with ``filters``) from the first, following ``next_cursor``;
    ``between_pages``
    runs after each page but the last (with the page's number), e.g. to insert rows."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {**(filters or {}), "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the walk does not end"
        between_pages(len(pages))
