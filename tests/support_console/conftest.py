"""Support console tests: staff callers built directly, a paid order to act on, and the
audit records each action leaves (captured where the audit log is written)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import create_paid_order
from tulpar.auth.identity import Caller, CallerKind
from tulpar.models import Card, Channel, Order, OrderState
from tulpar.support import access

ROLES = ("clerk", "store_manager", "support", "admin")


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
