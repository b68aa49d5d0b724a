from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import Card, Notification, NotificationState


def insert_unless_duplicate(session: Session, values: dict[str, Any]) -> Notification | None:
    """Insert one row; ``None`` when a notification with the same dedupe key exists."""
    statement = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
        .returning(Notification.id)
    )
    notification_id = session.execute(statement).scalar_one_or_none()
    if notification_id is None:
        return None
    return session.get(Notification, notification_id)


def card(session: Session, card_id: int) -> Card | None:
    return session.get(Card, card_id)


def get(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id)


def mark_sent(
    session: Session,
    notification_id: int,
    *,
    provider: str,
    provider_message_id: str,
    state: NotificationState,
    at: datetime,
    body: str | None = None,
) -> bool:
    """Record the provider's answer once: only a still-queued row moves."""
    values: dict[str, Any] = {
        "state": state,
        "provider": provider,
        "provider_message_id": provider_message_id,
        "sent_at": at,
        "error": None,
    }
    if body is not None:
        values["body"] = body
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == NotificationState.queued)
        .values(**values)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def record_error(
    session: Session, notification_id: int, *, error: str, final: bool, provider: str
) -> None:
    values: dict[str, Any] = {"error": error[:2000], "provider": provider}
    if final:
        values["state"] = NotificationState.failed
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == NotificationState.queued)
        .values(**values)
    )


def newest(session: Session, *, limit: int) -> list[Notification]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    return list(session.scalars(query))


def for_card(session: Session, card_id: int) -> list[Notification]:
    query = select(Notification).where(Notification.card_id == card_id).order_by(Notification.id)
    return list(session.scalars(query))
