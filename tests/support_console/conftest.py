"""Support console tests: staff callers built directly, a paid order to act on, and the
audit records each action leaves (captured where the audit log is written)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import create_paid_order
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller, CallerKind
from tulpar.models import Card, Channel, Order, OrderState, StaffUser
from tulpar.staff import service as staff_service
from tulpar.store import service as store_service
from tulpar.support import access
from tulpar.web.staff.session import COOKIE

__all__ = ["COOKIE"]

ROLES = ("clerk", "store_manager", "support", "admin")
PASSWORD = "correct horse battery"
_usernames = itertools.count(1)


@dataclass(frozen=True)
class SignedInStaff:
    user: StaffUser
    token: str  # the tulpar_staff_session cookie
    csrf: str  # what the session's forms carry


def signed_in(session: Session, role: str) -> SignedInStaff:
    """A real staff user of ``role`` signed in through the staff service: password, then
    (support, admin) the TOTP code pyotp computes from the user's secret."""
    store_id = None
    if role in ("clerk", "store_manager"):
        store_id = store_service.create_store(
            session,
            auth_service.command_line(),
            code=f"TST-{next(_usernames):02d}",
            name="Tulpar test store",
            city="Almaty",
            address="Abay Ave 1",
            opening_hours="09:00–21:00",
            legal_name="Tulpar Retail LLP",
            bin="123456789012",
        ).id
    user = staff_service.create_user(
        session,
        auth_service.command_line(),
        username=f"{role}-{next(_usernames)}",
        password=PASSWORD,
        role=role,
        store_id=store_id,
    )
    result = staff_service.sign_in(session, user.username, PASSWORD)
    assert result.token is not None
    current = staff_service.signed_in(session, result.token)
    assert current is not None
    if not current.complete:
        assert user.totp_secret is not None
        code = pyotp.TOTP(user.totp_secret).now()
        assert staff_service.second_factor(session, current, code)
    session.flush()
    return SignedInStaff(user=user, token=result.token, csrf=current.csrf_token)


def staff(role: str, *, staff_id: int = 7, store_id: int | None = None) -> Caller:
    return Caller(
        kind=CallerKind.staff,
        actor=f"staff:{staff_id}:{role}",
        channel=Channel.web,
        staff_id=staff_id,
        role=role,
        store_id=store_id,
    )


@dataclass
class Recorded:
    action: str
    subject: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@pytest.fixture
def audited(monkeypatch: pytest.MonkeyPatch) -> list[Recorded]:
    """Every audit record written, in order (what tulpar.audit.service.record receives)."""
    records: list[Recorded] = []

    def record(session: Session, caller: Caller, action: str, **values: Any) -> None:
        records.append(Recorded(action=action, **values))

    monkeypatch.setattr(access, "_record", record)
    return records


@dataclass
class Scene:
    card: Card
    order: Order


@pytest.fixture
def failed_order(session: Session) -> Scene:
    """A renewal paid 3,500.00 KZT whose provisioning failed, nothing refunded yet."""
    plan = create_plan(session, validity_days=15)
    card, _ = create_active_card(session, plan=plan, language="zh-Hans")
    order = create_paid_order(session, card=card, plan=plan)
    order.state = OrderState.provisioning_failed
    session.flush()
    return Scene(card=card, order=order)


def rows(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
