"""The two jobs that move webhooks, queued in the caller's transaction: ``dispatch`` (events
into deliveries, one dispatcher at a time) and ``deliver`` (one (endpoint, card) at a time,
oldest first: the job lock keeps two from sending for the same pair at once)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.orm import Session

from tulpar.jobs import defer_in_transaction

DISPATCH_TASK = "partner_webhook.dispatch"
DELIVER_TASK = "partner_webhook.deliver"


def deliver_lock(endpoint_id: int, card_id: int) -> str:
    return f"partner_webhook:{endpoint_id}:{card_id}"


def _defer_once(session: Session, task: str, lock: str, *, delay: timedelta, **kwargs: Any) -> None:
    try:
        with session.begin_nested():
            defer_in_transaction(
                session,
                task,
                lock=lock,
                queueing_lock=lock,
                schedule_in={"milliseconds": max(0, int(delay.total_seconds() * 1000))},
                **kwargs,
            )
    except AlreadyEnqueued:
        pass  # a job of this lock already waits; it reads the state when it runs


def dispatch_soon(session: Session) -> None:
    _defer_once(session, DISPATCH_TASK, DISPATCH_TASK, delay=timedelta(0))


def deliver_after(session: Session, endpoint_id: int, card_id: int, delay: timedelta) -> None:
    """Queue sending (endpoint, card)'s pending deliveries after ``delay``. If a job of that
    pair already waits, it is kept: it finds the oldest delivery not due yet and queues the
    next one for when it is."""
    _defer_once(
        session,
        DELIVER_TASK,
        deliver_lock(endpoint_id, card_id),
        delay=delay,
        endpoint_id=endpoint_id,
        card_id=card_id,
    )
