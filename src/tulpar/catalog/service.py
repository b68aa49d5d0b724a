"""The plan catalog: what can be sold, where, at what price."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.catalog import repository, rules
from tulpar.catalog.definition import PlanDefinition, PlanStatus
from tulpar.errors import PlanNotFoundError
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Channel, Plan
from tulpar.money import Money

__all__ = [
    "PlanDefinition",
    "PlanStatus",
    "all_plans",
    "codes_by_id",
    "ensure_plan",
    "get_plan",
    "price_of",
    "sellable_plans",
    "status_of",
]


def sellable_plans(
    session: Session, *, channel: Channel | None = None, at: datetime | None = None
) -> list[Plan]:
    return repository.sellable(
        session, at=at or clock.now(), channel=None if channel is None else channel.value
    )


def all_plans(session: Session) -> list[Plan]:
    return repository.all_plans(session)


def codes_by_id(session: Session) -> dict[int, str]:
    return repository.codes_by_id(session)


def get_plan(session: Session, code: str) -> Plan:
    plan = repository.by_code(session, code.strip().upper())
    if plan is None:
        raise PlanNotFoundError(f"There is no plan {code!r}")
    return plan


def price_of(plan: Plan, currency: str) -> Money | None:
    for price in plan.prices:
        if price.currency == currency:
            return Money(price.amount_minor, price.currency)
    return None


def ensure_plan(session: Session, definition: PlanDefinition) -> tuple[Plan, bool]:
    """Create the plan unless one with this code exists (the demo seed, test factories).
    Returns (plan, created). The same checks as every other way of writing a plan."""
    existing = repository.by_code(session, definition.code)
    if existing is not None:
        return existing, False
    rules.check(definition)
    return insert_plan(session, definition), True


def insert_plan(session: Session, definition: PlanDefinition) -> Plan:
    """Write a checked ``definition`` as a new plan (who may, and the audit, are the
    caller's: :mod:`tulpar.catalog.editing`)."""
    plan = Plan(code=definition.code, retired_at=None)
    apply_definition(plan, definition)
    repository.add(session, plan, definition.prices_minor)
    loaded = repository.by_code(session, definition.code)
    assert loaded is not None
    return loaded


def apply_definition(plan: Plan, definition: PlanDefinition) -> None:
    """Every field of ``definition`` but the code and the prices onto ``plan``."""
    plan.names = {language: definition.names[language].strip() for language in LANGUAGES}
    plan.validity_days = definition.validity_days
    plan.data_bytes = definition.data_bytes
    plan.voice_seconds = definition.voice_seconds
    plan.sms_count = definition.sms_count
    plan.channels = [channel.value for channel in definition.channels]
    plan.renewal_policy = definition.renewal_policy
    plan.rollover = definition.rollover
    plan.sellable_from = definition.sellable_from
    plan.sellable_until = definition.sellable_until


def status_of(plan: Plan, *, at: datetime | None = None) -> PlanStatus:
    at = at or clock.now()
    if plan.retired_at is not None:
        return PlanStatus.retired
    if plan.sellable_from is not None and plan.sellable_from > at:
        return PlanStatus.scheduled
    if plan.sellable_until is not None and plan.sellable_until <= at:
        return PlanStatus.ended
    return PlanStatus.active
