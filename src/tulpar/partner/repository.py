from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tulpar.models import ApiKey, Partner


def partner_by_name(session: Session, name: str) -> Partner | None:
    return session.scalars(select(Partner).where(Partner.name == name)).one_or_none()


def add(session: Session, row: Partner | ApiKey) -> None:
    session.add(row)
    session.flush()


def active_key_with_partner(session: Session, prefix: str) -> tuple[ApiKey, Partner] | None:
    query = (
        select(ApiKey, Partner)
        .join(Partner, Partner.id == ApiKey.partner_id)
        .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    )
    row = session.execute(query).one_or_none()
    return None if row is None else (row[0], row[1])


def partner_name(session: Session, partner_id: int) -> str:
    return session.scalars(select(Partner.name).where(Partner.id == partner_id)).one()
