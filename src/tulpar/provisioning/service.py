"""Provisioning a paid renewal on the carrier.

A job (``provisioning.apply``) works in three steps so no network call happens while a write
transaction is open: :func:`begin_call` records the intent (an attempt row) and commits; the
job calls the carrier with our reference and a timeout; :func:`record_answer` records what came
back and settles the provisioning (:mod:`.settlement`) in a new transaction; fulfilment acts on
the settlement. A worker that dies
between the call and the record leaves an unfinished attempt; the next run asks again with the
same reference and the carrier, idempotent on it, gives the same answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from tulpar.bundle import service as bundle_service
from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.errors import CardNotRenewableError
from tulpar.integrations.carrier import get_carrier
from tulpar.integrations.carrier.protocol import (
    ApplyBundleRequest,
    CarrierResponse,
    CarrierUnavailableError,
)
from tulpar.kit import sweep
from tulpar.models import (
    Card,
    CarrierCall,
    Order,
    Plan,
    Provisioning,
    ProvisioningAttempt,
    ProvisioningState,
)
from tulpar.provisioning import repository, settlement
from tulpar.provisioning.settlement import UNAVAILABLE, Settlement

log = structlog.get_logger()

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


def for_order(session: Session, order_id: int) -> Provisioning | None:
    return repository.for_order(session, order_id)


def carried_by_job(session: Session, job_id: int) -> list[int]:
    """Orders whose provisioning is still in progress and was last carried by ``job_id``."""
    return repository.in_progress_order_ids_of_job(session, job_id)


def begin_call(
    session: Session, provisioning: Provisioning, *, now: datetime, carried_by: int | None = None
) -> PlannedCall | Settlement | None:
    """Record the next carrier call of a provisioning (locked by :func:`locked_for_order`).
    A settlement when it fails before any call (the card cannot be renewed any more);
    ``None`` when it was settled already. ``carried_by``: the running job that makes the
    call itself; a run of it that died finds the provisioning again through
    :func:`carried_by_job` on its retry."""
    if provisioning.state is not ProvisioningState.in_progress:
        return None
    order_id = provisioning.order_id
    card, plan = settlement.card_and_plan(session, provisioning)
    try:
        card_service.ensure_renewable(card, now=now)
    except CardNotRenewableError as error:
        return settlement.fail(session, provisioning, reason=error.code, now=now)
    # Once the carrier accepted the bundle we only ask how it is going.
    call = CarrierCall.get_status if provisioning.accepted_at else CarrierCall.apply_bundle
    provisioning.attempts += 1
    if carried_by is not None:
        provisioning.next_job_id = carried_by
    # If this run dies, the sweep finds the order overdue and queues it again.
    provisioning.next_check_at = now + timedelta(seconds=2 * get_settings().carrier_timeout_seconds)
    session.flush()  # a provisioning started just now gets its id: the attempt refers to it
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


def call_carrier(planned: PlannedCall) -> tuple[CarrierResponse | None, str | None]:
    """The network step (no transaction may be open): the answer, or None and why."""
    carrier = get_carrier()
    timeout = get_settings().carrier_timeout_seconds
    try:
        if planned.call is CarrierCall.get_status:
            return carrier.get_status(planned.reference, timeout=timeout), None
        return carrier.apply_bundle(planned.request, timeout=timeout), None
    except CarrierUnavailableError as error:
        return None, str(error)[:500]
    except Exception as error:
        # An adapter bug must not loop outside the retry window: count it as "unavailable",
        # so the order is retried, then refunded with a ticket like any other outage.
        log.exception("provisioning.adapter_error", order_id=planned.order_id)
        return None, f"adapter error: {type(error).__name__}: {error}"[:500]


def record_answer(
    session: Session,
    planned: PlannedCall,
    *,
    answer: CarrierResponse | None,
    error: str | None = None,
    now: datetime,
) -> Settlement:
    """Record the outcome of ``planned`` (``answer`` None: carrier unavailable) and settle."""
    provisioning = repository.for_order(session, planned.order_id, for_update=True)
    status = UNAVAILABLE if answer is None else answer.status.value
    error_code = None if answer is None else answer.error_code
    if provisioning is None or not repository.finish_attempt(
        session,
        planned.attempt_id,
        outcome=status,
        error_code=error_code,
        message=error if answer is None else answer.message,
        finished_at=now,
    ):
        raise LookupError(
            f"no provisioning attempt {planned.attempt_id} for order {planned.order_id}"
        )
    return settlement.settle(
        session,
        provisioning,
        status=status,
        via="poll" if planned.call is CarrierCall.get_status else "response",
        now=now,
        carrier_reference=None if answer is None else answer.carrier_reference,
        error_code=error_code or error,
    )


def requeue_overdue(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Queue again provisionings whose next job is long overdue (its worker died)."""
    count = 0

    def one(order_id: int) -> None:
        nonlocal count
        count += queue_again(session, order_id, now=now)

    # Each order in its own savepoint: one that fails is logged and the others go on.
    sweep.for_each(
        "provisioning.sweep",
        repository.overdue_order_ids(session, before=now - timedelta(minutes=2), limit=limit),
        one,
        item_id=lambda order_id: f"order {order_id}",
        session=session,
    )
    return count


def queue_again(session: Session, order_id: int, *, now: datetime) -> bool:
    """Hand a provisioning still in progress to a ``provisioning.apply`` job due now (its
    own job died or gave it up); False when it has settled meanwhile."""
    provisioning = repository.for_order(session, order_id, for_update=True)
    if provisioning is None or provisioning.state is not ProvisioningState.in_progress:
        return False
    settlement.schedule(session, provisioning, due_at=now, now=now)
    return True


def locked_for_order(session: Session, order_id: int) -> Provisioning | None:
    return repository.for_order(session, order_id, for_update=True)


def wait_behind_earlier(session: Session, order: Order, *, now: datetime) -> timedelta | None:
    """How long a paid renewal should wait because an older one of its card is still in
    flight (renewals of a card apply in order); None when it may start now."""
    if not repository.earlier_renewal_unsettled(
        session, card_id=order.card_id, order_id=order.id, now=now, window=_retry_window()
    ):
        return None
    shortest, longest = WAIT_BEHIND_EARLIER
    return min(longest, max(shortest, (now - order.state_changed_at) / 4))


def defer(session: Session, order: Order, *, delay: timedelta) -> None:
    """Look at this order's provisioning again after ``delay``."""
    settlement.defer_apply(session, order_id=order.id, card_id=order.card_id, delay=delay)


def start(session: Session, order: Order, *, now: datetime) -> Provisioning:
    """The provisioning of a renewal that has just moved to ``provisioning``: the bundle's
    window is fixed now, and the carrier is retried within the retry window."""
    card = repository.card(session, order.card_id)
    plan = None if order.plan_id is None else repository.plan(session, order.plan_id)
    if card is None or plan is None:
        raise LookupError(f"order {order.id} lost its card or plan")
    # The carrier gets the window the bundle will have here: the same policy code decides.
    window = bundle_service.quote(session, card, plan, now=now, bonus_days=order.bonus_days)
    provisioning = Provisioning(
        order_id=order.id,
        card_id=order.card_id,
        reference=reference_for(order.id),
        state=ProvisioningState.in_progress,
        attempts=0,
        started_at=now,
        bundle_starts_at=window.starts_at,
        bundle_expires_at=window.expires_at,
        retry_until=now + _retry_window(),
        next_check_at=now,
    )
    # Inserted with its first call (:func:`begin_call`), which is recorded next.
    repository.add(session, provisioning, flush=False)
    return provisioning


def attempts_of(session: Session, provisioning: Provisioning) -> list[ProvisioningAttempt]:
    return repository.attempts_of(session, provisioning.id)


def _retry_window() -> timedelta:
    return timedelta(seconds=get_settings().provisioning_retry_window_seconds)


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
