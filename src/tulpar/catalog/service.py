"""The plan catalog: what can be sold, where, at what price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.catalog import repository
from tulpar.errors import PlanNotFoundError
from tulpar.models import Channel, Plan, RenewalPolicy
from tulpar.money import Money


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


@dataclass(frozen=True)
class PlanDefinition:
    code: str
    names: dict[str, str]
    validity_days: int
    data_bytes: int | None
    voice_seconds: int | None
    sms_count: int | None
    prices_minor: dict[str, int]
    channels: tuple[Channel, ...] = tuple(Channel)
    renewal_policy: RenewalPolicy = RenewalPolicy.extend
    rollover: bool = False
    sellable_from: datetime | None = None
    sellable_until: datetime | None = None


def ensure_plan(session: Session, definition: PlanDefinition) -> tuple[Plan, bool]:
    """Create the plan unless one with this code exists. Returns (plan, created)."""
    existing = repository.by_code(session, definition.code)
    if existing is not None:
        return existing, False
    plan = Plan(
        code=definition.code,
        names=definition.names,
        validity_days=definition.validity_days,
        data_bytes=definition.data_bytes,
        voice_seconds=definition.voice_seconds,
        sms_count=definition.sms_count,
        channels=[channel.value for channel in definition.channels],
        renewal_policy=definition.renewal_policy,
        rollover=definition.rollover,
        sellable_from=definition.sellable_from,
        sellable_until=definition.sellable_until,
    )
    repository.add(session, plan, definition.prices_minor)
    loaded = repository.by_code(session, definition.code)
    assert loaded is not None
    return loaded, True
