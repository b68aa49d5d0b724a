"""Queries of the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tulpar.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to list; every field narrows (``None`` does not). ``subject`` is exact
    (``card:42``); ``action`` is exact or, ending in ``.``, a prefix (``wallet.``)."""

    action: str | None = None
    subject: str | None = None
    actor: str | None = None
    staff_id: int | None = None
    store_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # for the next page: entries older than this id


def entries(session: Session, filters: AuditFilter, *, limit: int) -> list[AuditEntry]:
    query = select(AuditEntry)
    if filters.action:
        if filters.action.endswith("."):
            query = query.where(AuditEntry.action.startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEntry.action == filters.action)
    if filters.subject:
        query = query.where(AuditEntry.subject == filters.subject)
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.staff_id is not None:
        query = query.where(AuditEntry.staff_id == filters.staff_id)
    if filters.store_id is not None:
        query = query.where(AuditEntry.store_id == filters.store_id)
    if filters.since is not None:
        query = query.where(AuditEntry.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.occurred_at < filters.until)
    if filters.before_id is not None:
        query = query.where(AuditEntry.id < filters.before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
