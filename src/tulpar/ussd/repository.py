"""Every query of the USSD channel: its sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import UssdSession

PURGE_BATCH = 200
_KEY = frozenset({"gateway", "session_id"})


def lock(session: Session, gateway: str, session_id: str) -> UssdSession | None:
    """The dialogue, locked until the transaction ends: a gateway's repeated or concurrent
    requests for one session are answered one after the other."""
    query = (
        select(UssdSession)
        .where(UssdSession.gateway == gateway, UssdSession.session_id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def start(session: Session, values: dict[str, Any], *, now: datetime) -> bool:
    """Record a new dialogue; one that expired under the same gateway session id is replaced.
    False when a live one holds that id (a repeated first request)."""
    replaced = {name: value for name, value in values.items() if name not in _KEY}
    statement = (
        insert(UssdSession)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[UssdSession.gateway, UssdSession.session_id],
            set_=replaced,
            where=UssdSession.expires_at <= now,
        )
        .returning(UssdSession.id)
    )
    return session.execute(statement).first() is not None


def purge_expired(session: Session, *, now: datetime, limit: int = PURGE_BATCH) -> int:
    """Forget up to ``limit`` dialogues that ended; rows another request holds are skipped."""
    due = (
        select(UssdSession.id)
        .where(UssdSession.expires_at <= now)
        .order_by(UssdSession.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = session.execute(delete(UssdSession).where(UssdSession.id.in_(due)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
