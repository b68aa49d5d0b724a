from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from tulpar.models import Card, Notification, NotificationState
from tulpar.models.notification import NotificationPart


def insert_unless_duplicate(session: Session, values: dict[str, Any]) -> Notification | None:
    """Insert one row; ``None`` when a notification with the same dedupe key exists."""
    statement = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
        .returning(Notification)
    )
    return session.scalars(statement).one_or_none()


def card(session: Session, card_id: int) -> Card | None:
    return session.get(Card, card_id)


def get(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id)


@dataclass(frozen=True, slots=True)
class Sent:
    """What the answer's bookkeeping needs of a notification just marked sent."""

    card_id: int
    template: str
    body: str


def mark_sent(
    session: Session,
    notification_id: int,
    *,
    provider: str,
    provider_message_id: str,
    state: NotificationState,
    at: datetime,
) -> Sent | None:
    """Record the provider's answer once: only a still-queued row moves (None otherwise)."""
    moved = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == NotificationState.queued)
        .values(
            state=state,
            provider=provider,
            provider_message_id=provider_message_id,
            sent_at=at,
            error=None,
        )
        .returning(Notification.card_id, Notification.template, Notification.body)
    ).one_or_none()
    return None if moved is None else Sent(int(moved[0]), str(moved[1]), str(moved[2]))


def replace_body(session: Session, notification_id: int, body: str) -> None:
    session.execute(
        update(Notification).where(Notification.id == notification_id).values(body=body)
    )


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


def add_parts(
    session: Session, notification_id: int, *, card_id: int, message_ids: tuple[str, ...]
) -> None:
    """One row per submitted part, numbered from 1; a part recorded before is kept."""
    if not message_ids:
        return
    session.execute(
        insert(NotificationPart)
        .values(
            [
                {
                    "notification_id": notification_id,
                    "card_id": card_id,
                    "part_number": number,
                    "provider_message_id": message_id,
                }
                for number, message_id in enumerate(message_ids, start=1)
            ]
        )
        .on_conflict_do_nothing(index_elements=["notification_id", "part_number"])
    )


def part_by_message_id(session: Session, message_id: str) -> NotificationPart | None:
    """The newest part with this SMSC message id (an SMSC may reuse ids after a while)."""
    query = (
        select(NotificationPart)
        .where(NotificationPart.provider_message_id == message_id)
        .order_by(NotificationPart.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def by_provider_message_id(session: Session, provider: str, message_id: str) -> Notification | None:
    query = (
        select(Notification)
        .where(Notification.provider == provider, Notification.provider_message_id == message_id)
        .order_by(Notification.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def lock(session: Session, notification_id: int) -> Notification | None:
    return session.get(Notification, notification_id, with_for_update=True, populate_existing=True)


def parts_of(session: Session, notification_id: int) -> list[NotificationPart]:
    query = (
        select(NotificationPart)
        .where(NotificationPart.notification_id == notification_id)
        .order_by(NotificationPart.part_number)
    )
    return list(session.scalars(query))


def opt_out_of_marketing(session: Session, card_id: int, *, at: datetime) -> bool:
    """Stamp the card's opt-out once; False when it had opted out already."""
    result = session.execute(
        update(Card)
        .where(Card.id == card_id, Card.marketing_opt_out_at.is_(None))
        .values(marketing_opt_out_at=at)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def rehearse_insert(session: Session, dedupe_key: str) -> None:
    """What :func:`insert_unless_duplicate` costs (a row written with its indexes and
    foreign key checked, then read back) for a message with no recipient: the row is
    removed again in the same transaction, so nobody ever sees it."""
    written = session.execute(
        text(
            "INSERT INTO notifications (card_id, channel, template, language, recipient, body,"
            " encoding, segment_count, dedupe_key, state)"
            " SELECT id, 'sms', 'otp', language, '+70000000000', '', 'gsm7', 1, :key, 'queued'"
            # Any card not being changed right now (a locked one would make this wait).
            " FROM cards ORDER BY id LIMIT 1 FOR KEY SHARE SKIP LOCKED"
            " ON CONFLICT DO NOTHING RETURNING id"
        ),
        {"key": dedupe_key},
    ).scalar_one_or_none()
    if written is None:
        return  # no card at all: nothing to tell apart
    rehearsed = session.get(Notification, written)
    session.execute(text("DELETE FROM notifications WHERE id = :id"), {"id": written})
    if rehearsed is not None:
        session.expunge(rehearsed)
