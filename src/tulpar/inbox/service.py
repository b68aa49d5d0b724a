"""The one inbox for everything the outside world sends us. A message is verified by the
domain that understands it, then stored here first — unique on (source, external id), so a
replay or a duplicate finds it there and changes nothing — with its ``inbox.handle`` job in
the same transaction. The job claims it, lets fulfilment act on it, and stamps it handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.inbox import repository
from tulpar.jobs import INBOX_PRIORITY, defer_in_transaction
from tulpar.kit import sweep
from tulpar.models import InboxMessage

HANDLE_TASK = "inbox.handle"
# A message still unhandled this long after it arrived lost its job: queue it again.
REQUEUE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One message as its domain understood it, ready to be stored."""

    source: str
    external_id: str
    kind: str
    payload: dict[str, Any]
    subject: str | None = None
    # News its domain knows settles nothing (a payment still processing, an event type it
    # does not act on): stored already stamped with this outcome, and no job is queued.
    settles_nothing: str | None = None


def store(session: Session, arrival: Arrival) -> bool:
    """Store ``arrival`` and queue its handling (unless it settles nothing). False for a
    message stored before (nothing new is stored or queued). Never commits."""
    now = clock.now()
    values: dict[str, Any] = {
        "source": arrival.source[:16],
        "external_id": arrival.external_id[:255],
        "kind": arrival.kind[:64],
        "subject": None if arrival.subject is None else arrival.subject[:128],
        "payload": arrival.payload,
        "received_at": now,
    }
    if arrival.settles_nothing is not None:
        values |= {"handled_at": now, "outcome": arrival.settles_nothing[:1000]}
    message_id = repository.add_unless_seen(session, values)
    if message_id is None:
        return False
    if arrival.settles_nothing is None:
        _queue(session, message_id)
    return True


def claim(session: Session, message_id: int) -> InboxMessage | None:
    """The message, locked until the transaction ends; None if it was handled already."""
    message = repository.for_update(session, message_id)
    if message is None or message.handled_at is not None:
        return None
    return message


def stamp(session: Session, message: InboxMessage, *, outcome: str) -> None:
    message.handled_at = clock.now()
    message.outcome = outcome[:1000]
    session.flush()


def about(session: Session, *, source: str, subject: str) -> list[InboxMessage]:
    """What ``source`` told us about ``subject``, oldest first (for timelines)."""
    return repository.about(session, source=source, subject=subject)


def requeue_unhandled(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Queue again messages whose job went missing; handling twice is harmless."""
    message_ids = repository.unhandled_ids(
        session, received_before=now - REQUEUE_AFTER, limit=limit
    )
    # Each message in its own savepoint: one that cannot be queued is logged, not fatal.
    failed = sweep.for_each(
        "inbox.requeue_unhandled",
        message_ids,
        lambda message_id: _queue(session, message_id),
        item_id=lambda message_id: f"inbox message {message_id}",
        session=session,
    )
    return len(message_ids) - failed


def _queue(session: Session, message_id: int) -> None:
    try:
        with session.begin_nested():
            defer_in_transaction(
                session,
                HANDLE_TASK,
                queue="inbox",
                queueing_lock=f"inbox:{message_id}",
                priority=INBOX_PRIORITY,
                message_id=message_id,
            )
    except AlreadyEnqueued:
        pass  # a job already waits for it
