"""Catalog page tests: staff signed in through the real forms (password, then TOTP for
admin and support), the plan form as an admin fills it in, and what the database holds."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.staff.conftest import PASSWORD, cheap_password_hashing, make_store
from tests.staff.web import page_csrf, sign_in
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.models import AuditEntry, Plan, PlanPrice
from tulpar.staff import service as staff_service

__all__ = ["cheap_password_hashing"]  # the staff tests' autouse fixture, here too

_numbers = itertools.count(1)

FORM: dict[str, Any] = {
    "code": "KZ-15D-10GB",
    "name_en": "Kazakhstan 15 days",
    "name_ru": "Казахстан 15 дней",
    "name_zh_hans": "哈萨克斯坦15天",
    "name_kk": "Қазақстан 15 күн",
    "validity_days": "15",
    "data_mb": "10240",
    "voice_minutes": "60",
    "sms_count": "",
    "sms_unlimited": "on",
    "price_kzt": "4500",
    "price_cny": "65.50",
    "price_usd": "",
    "channels": ["web", "store"],
    "renewal_policy": "queue",
    "rollover": "on",
    "sellable_from": "",
    "sellable_until": "",
}


@pytest.fixture
def now() -> Iterator[datetime]:
    """Time stands still for the test, at the real moment (TOTP codes are of real time)."""
    moment = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen(moment):
        yield moment


def signed_in(
    client: TestClient, session: Session, role: str = "admin", *, language: str = "en"
) -> str:
    """A staff user of ``role`` signed in through the forms; returns the session's CSRF
    token."""
    store = (
        make_store(session, f"ALA-{next(_numbers):02d}")
        if role in ("clerk", "store_manager")
        else None
    )
    user = staff_service.create_user(
        session,
        auth_service.command_line(),
        username=f"{role}-{next(_numbers)}",
        password=PASSWORD,
        role=role,
        store_id=None if store is None else store.id,
        language=language,
    )
    session.flush()
    answer = sign_in(client, user.username, totp_secret=user.totp_secret)
    assert answer.status_code == 303, answer.text[:300]
    return page_csrf(client)


def prices_of(session: Session, plan_id: int) -> dict[str, int]:
    rows = session.execute(
        select(PlanPrice.currency, PlanPrice.amount_minor).where(PlanPrice.plan_id == plan_id)
    )
    return {str(currency): int(amount) for currency, amount in rows}


def catalog_audit(session: Session) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action.like("catalog.%"))
    return list(session.scalars(query.order_by(AuditEntry.id)))


def plan_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Plan)) or 0)


def reloaded(session: Session, code: str) -> Plan | None:
    session.expire_all()
    return session.scalars(select(Plan).where(Plan.code == code)).one_or_none()
