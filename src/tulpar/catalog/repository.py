from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, joinedload

from tulpar.models import Bundle, Order, Plan, PlanPrice

# Plans come with their prices in one statement: a "selectin" load would be a second one,
# with its IN list rendered into the statement text on every call (no statement cache, no
# prepared plan).


def sellable(session: Session, *, at: datetime, channel: str | None) -> list[Plan]:
    query = (
        select(Plan)
        .options(joinedload(Plan.prices))
        .where(
            Plan.retired_at.is_(None),
            or_(Plan.sellable_from.is_(None), Plan.sellable_from <= at),
            or_(Plan.sellable_until.is_(None), Plan.sellable_until > at),
        )
        .order_by(Plan.validity_days, Plan.code)
    )
    if channel is not None:
        query = query.where(Plan.channels.contains([channel]))
    return list(session.scalars(query).unique())


def all_plans(session: Session) -> list[Plan]:
    query = select(Plan).options(joinedload(Plan.prices)).order_by(Plan.validity_days, Plan.code)
    return list(session.scalars(query).unique())


def by_code(session: Session, code: str, *, for_update: bool = False) -> Plan | None:
    query = select(Plan).options(joinedload(Plan.prices)).where(Plan.code == code)
    if for_update:
        # Edits of one plan queue behind each other, so each audit row's "before" is what the
        # edit really replaced; populate_existing refreshes a plan this session already holds.
        query = query.with_for_update(of=Plan).execution_options(populate_existing=True)
    return session.scalars(query).unique().one_or_none()


def add(session: Session, plan: Plan, prices: dict[str, int]) -> Plan:
    session.add(plan)
    session.flush()
    for currency, amount_minor in prices.items():
        session.add(PlanPrice(plan_id=plan.id, currency=currency, amount_minor=amount_minor))
    session.flush()
    return plan


def replace_prices(session: Session, plan_id: int, prices: dict[str, int]) -> None:
    """The plan's prices become exactly ``prices`` (currencies left out are no longer
    offered). Orders keep their own frozen amount and currency, so none is touched."""
    session.execute(
        delete(PlanPrice).where(
            PlanPrice.plan_id == plan_id, PlanPrice.currency.not_in(list(prices))
        )
    )
    if prices:
        upsert = insert(PlanPrice).values(
            [
                {"plan_id": plan_id, "currency": currency, "amount_minor": amount}
                for currency, amount in prices.items()
            ]
        )
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=[PlanPrice.plan_id, PlanPrice.currency],
                set_={"amount_minor": upsert.excluded.amount_minor},
            )
        )


# "Sold" is what the database's foreign keys to plans say: an order or a bundle names the
# plan. Deleting such a plan fails there too (the keys refuse it); these reads only let the
# catalog say so plainly, and show which plans may still be deleted.
def is_sold(session: Session, plan_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(Order.plan_id == plan_id) | exists().where(Bundle.plan_id == plan_id)
            )
        )
    )


def sold_plan_ids(session: Session) -> set[int]:
    # One EXISTS per plan (a catalog has tens): each stops at the first order or bundle.
    query = select(Plan.id).where(
        exists().where(Order.plan_id == Plan.id) | exists().where(Bundle.plan_id == Plan.id)
    )
    return {int(plan_id) for plan_id in session.scalars(query)}


def delete_plan(session: Session, plan_id: int) -> None:
    session.execute(delete(PlanPrice).where(PlanPrice.plan_id == plan_id))
    session.execute(delete(Plan).where(Plan.id == plan_id))


def codes_by_id(session: Session) -> dict[int, str]:
    return {int(row.id): str(row.code) for row in session.execute(select(Plan.id, Plan.code))}
