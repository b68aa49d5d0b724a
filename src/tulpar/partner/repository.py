from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tulpar.models import ApiKey, Partner


def partner_by_name(session: Session, name: str) -> Partner | None:
    return session.scalars(select(Partner).where(Partner.name == name)).one_or_none()


def add(session: Session, row: Partner | ApiKey) -> None:
    session.add(row)
    session.flush()


class ActiveKey(NamedTuple):
    """What checking a presented key needs, read as plain columns: every API request does
    this, and loading the two ORM entities cost more than the statement itself."""

    secret_sha256: str
    scopes: list[str]
    partner_id: int
    partner_name: str
    requests_per_minute: int | None


_ACTIVE_KEY = (
    select(
        ApiKey.secret_sha256,
        ApiKey.scopes,
        Partner.id,
        Partner.name,
        Partner.requests_per_minute,
    )
    .join(Partner, Partner.id == ApiKey.partner_id)
    .where(ApiKey.prefix == bindparam("prefix"), ApiKey.revoked_at.is_(None))
)


def active_key(session: Session, prefix: str) -> ActiveKey | None:
    row = session.execute(_ACTIVE_KEY, {"prefix": prefix}).one_or_none()
    return None if row is None else ActiveKey(*row)


def partner_name(session: Session, partner_id: int) -> str:
    return session.scalars(select(Partner.name).where(Partner.id == partner_id)).one()
