"""What a carrier answer means for one provisioning: completed or failed (exactly once), or
asked again later. Whichever of the synchronous answer, the callback and the poll arrives
first settles it; the others find it settled and do nothing. The :class:`Settlement` it
reports is what fulfilment acts on (the order, the bundle, the SMS, refunds, tickets).

Lock order, everywhere: provisioning row, then order row (the state transition), then card."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.orm import Session

from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.errors import CardNotRenewableError
from tulpar.integrations.carrier.protocol import CarrierStatus
from tulpar.jobs import (
    PROVISIONING_PRIORITY,
    cancel_waiting_in_transaction,
    defer_in_transaction,
    running_job_id,
)
from tulpar.models import Card, Plan, Provisioning, ProvisioningState
from tulpar.order import service as order_service
from tulpar.provisioning import repository

ACTOR = "system:provisioning"
APPLY_TASK = "provisioning.apply"
UNAVAILABLE = "unavailable"  # our own outcome: the carrier could not be reached


class Settled(enum.StrEnum):
    completed = "completed"
    failed = "failed"
    retry_scheduled = "retry_scheduled"
    poll_scheduled = "poll_scheduled"
    already_settled = "already_settled"


@dataclass(frozen=True, slots=True)
class Settlement:
    outcome: Settled
    order_id: int
    card_id: int
    reference: str
    attempts: int
    via: str | None = None  # how the carrier told us it applied: response, callback, poll
    reason: str | None = None  # why it failed
    # Set when a person should look although nothing failed (accepted, never finished).
    attention: str | None = None

    @classmethod
    def of(cls, provisioning: Provisioning, outcome: Settled, **details: str | None) -> Settlement:
        return cls(
            outcome=outcome,
            order_id=provisioning.order_id,
            card_id=provisioning.card_id,
            reference=provisioning.reference,
            attempts=provisioning.attempts,
            **details,
        )


def card_lock(card_id: int) -> str:
    """Jobs of one card run one at a time, in the order they were queued."""
    return f"card:{card_id}"


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": between half and all of base·2^(n-1), capped."""
    settings = get_settings()
    ceiling = min(
        settings.provisioning_backoff_max_seconds,
        settings.provisioning_backoff_base_seconds * 2 ** max(0, attempt - 1),
    )
    return (rng or random).uniform(ceiling / 2, ceiling)


def settle(
    session: Session,
    provisioning: Provisioning,
    *,
    status: str,
    via: str,
    now: datetime,
    carrier_reference: str | None = None,
    error_code: str | None = None,
) -> Settlement:
    """Act on one carrier status. ``provisioning`` must be locked (FOR UPDATE)."""
    if provisioning.state is not ProvisioningState.in_progress:
        return Settlement.of(provisioning, Settled.already_settled)
    provisioning.carrier_status = status
    provisioning.carrier_reference = carrier_reference or provisioning.carrier_reference
    if status == CarrierStatus.applied:
        return complete(session, provisioning, via=via, now=now)
    if status == CarrierStatus.failed_permanently:
        return fail(session, provisioning, reason=error_code or "failed_permanently", now=now)
    provisioning.last_error = error_code or status
    if status == CarrierStatus.pending:
        provisioning.accepted_at = provisioning.accepted_at or now
    elif status in (CarrierStatus.rejected, CarrierStatus.unknown):
        provisioning.accepted_at = None  # refused or lost after all: ask it to apply again
    settings = get_settings()
    if now < provisioning.retry_until:
        if provisioning.accepted_at is not None:
            delay, outcome = settings.provisioning_poll_after_seconds, Settled.poll_scheduled
        else:  # rejected, unavailable, unknown: ask again
            delay, outcome = backoff_seconds(provisioning.attempts), Settled.retry_scheduled
        # The last try happens when the window closes: a short outage never costs a refund.
        due_at = min(now + timedelta(seconds=delay), provisioning.retry_until)
        schedule(session, provisioning, due_at=due_at, now=now)
        return Settlement.of(provisioning, outcome)
    if provisioning.accepted_at is None:
        return fail(session, provisioning, reason=f"retry window ended ({status})", now=now)
    # Accepted but not finished in the window (carriers may take hours): keep asking, slowly,
    # and let support know once, rather than refund a bundle that may still be applied.
    due_at = now + timedelta(seconds=settings.provisioning_backoff_max_seconds)
    schedule(session, provisioning, due_at=due_at, now=now)
    return Settlement.of(
        provisioning,
        Settled.poll_scheduled,
        attention=f"accepted by the carrier at {provisioning.accepted_at:%Y-%m-%d %H:%M} UTC,"
        " not applied within the retry window; still polling",
    )


def schedule(
    session: Session, provisioning: Provisioning, *, due_at: datetime, now: datetime
) -> None:
    """Queue the next provisioning job of this order (one waiting job per order at most)."""
    provisioning.next_check_at = due_at
    provisioning.next_job_id = defer_apply(
        session,
        order_id=provisioning.order_id,
        card_id=provisioning.card_id,
        delay=due_at - now,
    )


def defer_apply(session: Session, *, order_id: int, card_id: int, delay: timedelta) -> int | None:
    """Queue ``provisioning.apply`` for the order after ``delay``, under the card's lock;
    returns the waiting job's id (an existing one if a job already waits for this order)."""
    queueing_lock = f"provisioning:{order_id}"
    try:
        with session.begin_nested():
            return defer_in_transaction(
                session,
                APPLY_TASK,
                lock=card_lock(card_id),
                queueing_lock=queueing_lock,
                priority=PROVISIONING_PRIORITY,
                schedule_in={"milliseconds": max(0, int(delay.total_seconds() * 1000))},
                order_id=order_id,
            )
    except AlreadyEnqueued:
        # A job already waits for this order; it will look at the new state when it runs.
        return repository.waiting_job_id(session, queueing_lock)


def complete(
    session: Session, provisioning: Provisioning, *, via: str, now: datetime
) -> Settlement:
    """The carrier applied the bundle. A card that cannot take it any more (terminated
    meanwhile) fails instead, so the traveller is refunded."""
    # Not flushed yet: the carrier's status just set and the end written below go to the
    # provisioning row in one UPDATE (the card's read does not depend on them).
    with session.no_autoflush:
        card = repository.card(session, provisioning.card_id)
    if card is None:
        raise LookupError(f"provisioning {provisioning.id} lost its card")
    try:
        card_service.ensure_renewable(card, now=now)
    except CardNotRenewableError as error:
        return fail(session, provisioning, reason=error.code, now=now)
    _finish(session, provisioning, ProvisioningState.completed, now=now)
    provisioning.completed_via = via
    return Settlement.of(provisioning, Settled.completed, via=via)


def fail(session: Session, provisioning: Provisioning, *, reason: str, now: datetime) -> Settlement:
    """Give up on this provisioning."""
    if provisioning.state is not ProvisioningState.in_progress:
        return Settlement.of(provisioning, Settled.already_settled)
    _finish(session, provisioning, ProvisioningState.failed, now=now)
    provisioning.last_error = reason
    return Settlement.of(provisioning, Settled.failed, reason=reason)


def _finish(
    session: Session, provisioning: Provisioning, state: ProvisioningState, *, now: datetime
) -> None:
    provisioning.state = state
    provisioning.finished_at = now
    provisioning.next_check_at = None
    if provisioning.next_job_id is not None:
        # A poll or retry still waiting would only find the order settled; drop it so the
        # card's next renewal does not queue behind it. The job running now needs no cancelling.
        if provisioning.next_job_id != running_job_id():
            cancel_waiting_in_transaction(session, provisioning.next_job_id)
        provisioning.next_job_id = None


def card_and_plan(session: Session, provisioning: Provisioning) -> tuple[Card, Plan]:
    """The card and the plan a provisioning is about (they cannot vanish: foreign keys)."""
    order = order_service.held(session, provisioning.order_id)
    card = repository.card(session, provisioning.card_id)
    plan = None if order.plan_id is None else repository.plan(session, order.plan_id)
    if card is None or plan is None:
        raise LookupError(f"provisioning {provisioning.id} lost its card or plan")
    return card, plan
