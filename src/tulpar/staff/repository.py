"""Queries of staff users."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tulpar.models import StaffUser


def by_username(session: Session, username: str, *, for_update: bool = False) -> StaffUser | None:
    query = select(StaffUser).where(func.lower(StaffUser.username) == username.strip().lower())
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def by_id(session: Session, staff_id: int, *, for_update: bool = False) -> StaffUser | None:
    query = select(StaffUser).where(StaffUser.id == staff_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def listed(session: Session, *, store_id: int | None = None) -> list[StaffUser]:
    query = select(StaffUser).order_by(StaffUser.store_id.nulls_first(), StaffUser.username)
    if store_id is not None:
        query = query.where(StaffUser.store_id == store_id)
    return list(session.scalars(query))
