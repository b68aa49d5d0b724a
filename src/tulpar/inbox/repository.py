from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import InboxMessage


def add_unless_seen(session: Session, values: dict[str, Any]) -> int | None:
    """Store a message; ``None`` when (source, external id) was stored before."""
    statement = (
        insert(InboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(InboxMessage.id)
    )
    return session.execute(statement).scalar_one_or_none()


def for_update(session: Session, message_id: int) -> InboxMessage | None:
    return session.get(InboxMessage, message_id, with_for_update=True, populate_existing=True)


def about(session: Session, *, source: str, subject: str) -> list[InboxMessage]:
    query = (
        select(InboxMessage)
        .where(InboxMessage.source == source, InboxMessage.subject == subject)
        .order_by(InboxMessage.id)
    )
    return list(session.scalars(query))


def unhandled_ids(session: Session, *, received_before: datetime, limit: int) -> list[int]:
    query = (
        select(InboxMessage.id)
        .where(InboxMessage.handled_at.is_(None), InboxMessage.received_at < received_before)
        .order_by(InboxMessage.received_at)
        .limit(limit)
    )
    return [int(message_id) for message_id in session.scalars(query)]
