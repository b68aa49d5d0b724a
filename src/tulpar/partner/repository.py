from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from tulpar.db import driver_rows
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


# Every API request reads its key: on the driver's cursor (db.driver_rows says why).
_ACTIVE_KEY = (
    "SELECT api_keys.secret_sha256, api_keys.scopes, partners.id, partners.name,"
    " partners.requests_per_minute"
    " FROM api_keys JOIN partners ON partners.id = api_keys.partner_id"
    " WHERE api_keys.prefix = %(prefix)s AND api_keys.revoked_at IS NULL"
)


def active_key(session: Session, prefix: str) -> ActiveKey | None:
    rows = driver_rows(session, _ACTIVE_KEY, {"prefix": prefix})
    return ActiveKey(*rows[0]) if rows else None


def partner_name(session: Session, partner_id: int) -> str:
    return session.scalars(select(Partner.name).where(Partner.id == partner_id)).one()
