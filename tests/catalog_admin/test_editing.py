"""The catalog's editing service on a real database: who may change plans, prices that
never reach an existing order, retiring and the refusal to delete a sold plan."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.support_console.conftest import staff
from tulpar.auth import service as auth_service
from tulpar.catalog import editing
from tulpar.catalog import service as catalog_service
from tulpar.catalog.rules import PlanRefusedError
from tulpar.errors import ForbiddenError
from tulpar.models import AuditEntry, Plan, PlanPrice

# The admin who runs `tulpar` commands (the staff pages' admin is the same role).
ADMIN = auth_service.command_line()


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _prices(session: Session, plan_id: int) -> dict[str, int]:
    rows = session.execute(
        select(PlanPrice.currency, PlanPrice.amount_minor).where(PlanPrice.plan_id == plan_id)
    )
    return {str(currency): int(amount) for currency, amount in rows}


def test_an_admin_reprices_a_plan_and_the_change_is_audited(session: Session) -> None:
    plan = create_plan(session, code="KZ-7D", prices_minor={"KZT": 3_500_00, "CNY": 52_00})
    definition = replace(editing.definition_of(plan), prices_minor={"KZT": 3_900_00, "CNY": 52_00})

    editing.update_plan(session, ADMIN, "kz-7d", definition)

    assert _prices(session, plan.id) == {"KZT": 3_900_00, "CNY": 52_00}
    entry = session.scalars(select(AuditEntry).where(AuditEntry.subject == f"plan:{plan.id}")).one()
    assert entry.action == "catalog.plan_price_change"
    assert entry.before == {"code": "KZ-7D", "prices": {"CNY": 52_00, "KZT": 3_500_00}}
    assert entry.after == {"code": "KZ-7D", "prices": {"CNY": 52_00, "KZT": 3_900_00}}


@pytest.mark.parametrize("role", ["support", "clerk", "store_manager"])
def test_only_an_admin_changes_a_price_and_a_refusal_changes_nothing(
    session: Session, role: str
) -> None:
    plan = create_plan(session, code="KZ-7D", prices_minor={"KZT": 3_500_00})
    definition = replace(editing.definition_of(plan), prices_minor={"KZT": 1_00})

    with pytest.raises(ForbiddenError):
        editing.update_plan(session, staff(role), "KZ-7D", definition)

    assert _prices(session, plan.id) == {"KZT": 3_500_00}
    assert _count(session, AuditEntry) == 0


def test_a_plan_without_a_kazakh_name_or_a_tenge_price_is_refused_and_nothing_written(
    session: Session,
) -> None:
    plan = create_plan(session, code="KZ-7D")
    definition = replace(
        editing.definition_of(plan),
        names={**plan.names, "kk": " "},
        prices_minor={"USD": 7_00},
        validity_days=0,
    )

    with pytest.raises(PlanRefusedError) as refused:
        editing.update_plan(session, ADMIN, "KZ-7D", definition)

    assert [p.field for p in refused.value.problems] == ["names.kk", "validity_days", "prices.KZT"]
    session.expire_all()
    assert session.get(Plan, plan.id).names["kk"] == "Тест"  # type: ignore[union-attr]
    assert _count(session, AuditEntry) == 0


def test_a_retired_plan_is_sold_nowhere_and_a_sold_plan_is_never_deleted(
    session: Session,
) -> None:
    plan = create_plan(session, code="KZ-7D")
    create_active_card(session, plan=plan)  # a bundle names it: it has been sold

    with pytest.raises(editing.PlanSoldError):
        editing.delete_plan(session, ADMIN, "KZ-7D")
    editing.retire_plan(session, ADMIN, "KZ-7D", reason="replaced")

    assert "KZ-7D" not in [p.code for p in catalog_service.sellable_plans(session)]
    assert session.get(Plan, plan.id) is not None
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["catalog.plan_retire"]


def test_a_plan_never_sold_may_be_deleted(session: Session) -> None:
    plan = create_plan(session, code="DRAFT")
    plan_id = plan.id

    editing.delete_plan(session, ADMIN, "DRAFT")

    assert session.scalar(select(Plan.id).where(Plan.id == plan_id)) is None
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.subject) == ("catalog.plan_delete", f"plan:{plan_id}")
    assert entry.before is not None
    assert entry.before["code"] == "DRAFT"
