"""Provisioning a paid renewal on the carrier.

A job (``provisioning.apply``) works in three steps so no network call happens while a write
transaction is open: :func:`begin_call` records the intent (an attempt row) and commits; the
job calls the carrier with our reference and a timeout; :func:`record_answer` records what came
back and settles the order (:mod:`.settlement`) in a new transaction. A worker that dies
between the call and the record leaves an unfinished attempt; the next run asks again with the
same reference and the carrier, idempotent on it, gives the same answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.errors import CardNotRenewableError
from tulpar.integrations.carrier.protocol import ApplyBundleRequest, CarrierResponse
from tulpar.models import (
    Card,
    CarrierCall,
    OrderKind,
    OrderState,
    Plan,
    Provisioning,
    ProvisioningAttempt,
    ProvisioningState,
    RenewalPolicy,
)
from tulpar.order import service as order_service
from tulpar.order.service import OrderNotFoundError
from tulpar.provisioning import repository, settlement
from tulpar.provisioning.settlement import ACTOR, UNAVAILABLE, Settled

# How long a renewal waits before looking again when an older one of its card is in flight:
# a quarter of how long it has waited so far, within these bounds (quick at first, then calm).
WAIT_BEHIND_EARLIER = (timedelta(milliseconds=500), timedelta(seconds=30))


def reference_for(order_id: int) -> str:
    """Our idempotency key at the carrier for one order."""
    return f"order-{order_id}"


def enqueue(session: Session, *, order_id: int, card_id: int) -> int | None:
    """Queue provisioning of a paid renewal, in the caller's transaction (the one that marks
    the order paid). Jobs of one card run one after the other, in the order queued; queueing
    twice leaves one job. Returns the job id."""
    return settlement.defer_apply(session, order_id=order_id, card_id=card_id, delay=timedelta())


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A carrier call recorded as intent and committed, to be made outside the transaction."""

    order_id: int
    attempt_id: int
    reference: str
    call: CarrierCall
    request: ApplyBundleRequest


def begin_call(session: Session, order_id: int, *, now: datetime) -> PlannedCall | None:
    """Start (or continue) provisioning ``order_id`` and record the next carrier call.
    ``None`` when there is nothing to do: not a paid renewal, or already settled."""
    provisioning = repository.for_order(session, order_id, for_update=True)
    if provisioning is None:
        provisioning = _start(session, order_id, now=now)
        if provisioning is None:
            return None
    if provisioning.state is not ProvisioningState.in_progress:
        return None
    _, card, plan = settlement.order_card_plan(session, provisioning)
    try:
        card_service.ensure_renewable(card, now=now)
    except CardNotRenewableError as error:
        settlement.fail(session, provisioning, reason=error.code, now=now)
        return None
    # Once the carrier accepted the bundle we only ask how it is going.
    call = CarrierCall.get_status if provisioning.accepted_at else CarrierCall.apply_bundle
    provisioning.attempts += 1
    # If this run dies, the sweep finds the order overdue and queues it again.
    provisioning.next_check_at = now + timedelta(seconds=2 * get_settings().carrier_timeout_seconds)
    attempt = ProvisioningAttempt(
        provisioning_id=provisioning.id,
        order_id=order_id,
        number=provisioning.attempts,
        call=call,
        started_at=now,
    )
    repository.add(session, attempt)
    return PlannedCall(
        order_id=order_id,
        attempt_id=attempt.id,
        reference=provisioning.reference,
        call=call,
        request=_request(provisioning, card, plan),
    )


def record_answer(
    session: Session,
    planned: PlannedCall,
    *,
    answer: CarrierResponse | None,
    error: str | None = None,
    now: datetime,
) -> Settled:
    """Record the outcome of ``planned`` (``answer`` None: carrier unavailable) and settle."""
    provisioning = repository.for_order(session, planned.order_id, for_update=True)
    attempt = repository.attempt(session, planned.attempt_id)
    if provisioning is None or attempt is None:
        raise LookupError(
            f"no provisioning attempt {planned.attempt_id} for order {planned.order_id}"
        )
    status = UNAVAILABLE if answer is None else answer.status.value
    attempt.outcome = status
    attempt.error_code = None if answer is None else answer.error_code
    attempt.message = error if answer is None else answer.message
    attempt.finished_at = now
    return settlement.settle(
        session,
        provisioning,
        status=status,
        via="poll" if planned.call is CarrierCall.get_status else "response",
        now=now,
        carrier_reference=None if answer is None else answer.carrier_reference,
        error_code=attempt.error_code or error,
    )


def requeue_overdue(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Queue again provisionings whose next job is long overdue (its worker died)."""
    count = 0
    for order_id in repository.overdue_order_ids(
        session, before=now - timedelta(minutes=2), limit=limit
    ):
        provisioning = repository.for_order(session, order_id, for_update=True)
        if provisioning is not None and provisioning.state is ProvisioningState.in_progress:
            settlement.schedule(session, provisioning, due_at=now, now=now)
            count += 1
    return count


def _start(session: Session, order_id: int, *, now: datetime) -> Provisioning | None:
    try:
        order = order_service.get(session, order_id)
    except OrderNotFoundError:
        return None
    if order.kind is not OrderKind.plan_renewal or order.state is not OrderState.paid:
        return None
    window = timedelta(seconds=get_settings().provisioning_retry_window_seconds)
    if repository.earlier_renewal_unsettled(
        session, card_id=order.card_id, order_id=order_id, now=now, window=window
    ):
        shortest, longest = WAIT_BEHIND_EARLIER
        delay = min(longest, max(shortest, (now - order.state_changed_at) / 4))
        settlement.defer_apply(session, order_id=order_id, card_id=order.card_id, delay=delay)
        return None
    moved = order_service.transition(
        session,
        order_id,
        from_states=[OrderState.paid],
        to_state=OrderState.provisioning,
        actor=ACTOR,
        reason="applying the bundle on the carrier",
        details={"reference": reference_for(order_id)},
    )
    if not moved:
        return None
    card = repository.card(session, order.card_id)
    plan = None if order.plan_id is None else repository.plan(session, order.plan_id)
    if card is None or plan is None:
        raise LookupError(f"order {order_id} lost its card or plan")
    current_end = max(now, card.validity_ends_at or now)
    starts_at = now if plan.renewal_policy is RenewalPolicy.extend else current_end
    provisioning = Provisioning(
        order_id=order_id,
        card_id=order.card_id,
        reference=reference_for(order_id),
        state=ProvisioningState.in_progress,
        attempts=0,
        started_at=now,
        bundle_starts_at=starts_at,
        bundle_expires_at=current_end + timedelta(days=plan.validity_days),
        retry_until=now + window,
        next_check_at=now,
    )
    repository.add(session, provisioning)
    return provisioning


def _request(provisioning: Provisioning, card: Card, plan: Plan) -> ApplyBundleRequest:
    return ApplyBundleRequest(
        reference=provisioning.reference,
        iccid=card.iccid,
        msisdn=card.msisdn,
        plan_code=plan.code,
        data_bytes=plan.data_bytes,
        voice_seconds=plan.voice_seconds,
        sms_count=plan.sms_count,
        starts_at=provisioning.bundle_starts_at,
        expires_at=provisioning.bundle_expires_at,
    )
