from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from tulpar.models import Plan, PlanPrice


def sellable(session: Session, *, at: datetime, channel: str | None) -> list[Plan]:
    query = (
        select(Plan)
        .options(selectinload(Plan.prices))
        .where(
            or_(Plan.sellable_from.is_(None), Plan.sellable_from <= at),
            or_(Plan.sellable_until.is_(None), Plan.sellable_until > at),
        )
        .order_by(Plan.validity_days, Plan.code)
    )
    if channel is not None:
        query = query.where(Plan.channels.contains([channel]))
    return list(session.scalars(query))


def all_plans(session: Session) -> list[Plan]:
    query = select(Plan).options(selectinload(Plan.prices)).order_by(Plan.validity_days, Plan.code)
    return list(session.scalars(query))


def by_code(session: Session, code: str) -> Plan | None:
    query = select(Plan).options(selectinload(Plan.prices)).where(Plan.code == code)
    return session.scalars(query).one_or_none()


def add(session: Session, plan: Plan, prices: dict[str, int]) -> Plan:
    session.add(plan)
    session.flush()
    for currency, amount_minor in prices.items():
        session.add(PlanPrice(plan_id=plan.id, currency=currency, amount_minor=amount_minor))
    session.flush()
    return plan


def codes_by_id(session: Session) -> dict[int, str]:
    return {int(row.id): str(row.code) for row in session.execute(select(Plan.id, Plan.code))}
