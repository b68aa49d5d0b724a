"""An order was paid: a renewal is queued for provisioning (or, inside a job that calls the
carrier itself after commit, started at once); a top-up is credited and completed at once
(there is nothing to provision on the network)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.fulfilment import provisioning
from tulpar.jobs import hold_lock
from tulpar.models import LedgerCause, Order, OrderKind
from tulpar.money import Money
from tulpar.notification import service as notification_service
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.partner_webhook import service as partner_webhook_service
from tulpar.provisioning import service as provisioning_service
from tulpar.provisioning.service import PlannedCall
from tulpar.provisioning.settlement import card_lock
from tulpar.receipt import service as receipt_service
from tulpar.receipt.service import ReceiptLine
from tulpar.wallet import service as wallet_service

TOPUP_ACTOR = "system:order.topup"


@dataclass(slots=True)
class InLineProvisioning:
    """The running job ``job_id`` makes, after its transaction commits, the carrier calls
    collected here (then records each answer in a transaction of its own). A renewal paid
    in that transaction is then started by the job rather than queued as
    ``provisioning.apply`` — when the job can hold its card's job lock, so renewals of one
    card still run one at a time and in order; otherwise it is queued as usual."""

    job_id: int
    calls: list[PlannedCall] = field(default_factory=list)


def on_paid(session: Session, order: Order, *, in_line: InLineProvisioning | None = None) -> None:
    if order.kind is OrderKind.plan_renewal:
        if in_line is None or not _started_in_line(session, order, in_line):
            # Under the card's job lock, so renewals of one card are applied one after the other.
            provisioning_service.enqueue(session, order_id=order.id, card_id=order.card_id)
    else:
        _complete_topup(session, order)


def _started_in_line(session: Session, order: Order, in_line: InLineProvisioning) -> bool:
    # The job holds the card's lock from this commit until it ends: no provisioning job of
    # the card starts meanwhile, and when one already runs or waits, this renewal queues
    # behind it like any other.
    if not hold_lock(session, in_line.job_id, card_lock(order.card_id)):
        return False
    # The intent is committed with the payment, naming this job: if the job dies before the
    # answer is recorded, its retry carries on (:func:`resume_in_line`); the sweep is the
    # last resort.
    planned = provisioning.begin(session, order.id, now=clock.now(), carried_by=in_line.job_id)
    if planned is not None:
        in_line.calls.append(planned)
    return True


def resume_in_line(session: Session, in_line: InLineProvisioning) -> None:
    """A retry of a job whose earlier run started provisionings in-line and died before
    recording the carrier's answer (``kill -9``, a lost connection): plan their next calls
    again. The job still holds their card's lock, and the carrier is asked with the same
    reference, so nothing is applied twice."""
    for order_id in provisioning_service.carried_by_job(session, in_line.job_id):
        planned = provisioning.begin(session, order_id, now=clock.now(), carried_by=in_line.job_id)
        if planned is not None:
            in_line.calls.append(planned)


def _complete_topup(session: Session, order: Order) -> None:
    wallet_service.move(
        session,
        card_id=order.card_id,
        amount=Money(order.amount_minor, order.currency),
        cause=LedgerCause.order,
        order_id=order.id,
        actor=TOPUP_ACTOR,
        reason="Wallet top-up",
    )
    order_service.move(
        session,
        order.id,
        OrderMove.complete,
        actor=TOPUP_ACTOR,
        reason="Wallet credited",
        details={"amount_minor": order.amount_minor, "currency": order.currency},
    )
    notification_service.queue_sms(
        session,
        card_id=order.card_id,
        template="topup_confirmed",
        context={"amount_minor": order.amount_minor, "currency": order.currency},
        dedupe_key=f"order:{order.id}:topup_confirmed",
    )
    receipt_service.issue(
        session,
        issuer=order.channel.value.upper(),
        card_id=order.card_id,
        order_id=order.id,
        lines=[ReceiptLine("Wallet top-up", 1, order.amount_minor)],
        payment_method=order.payment_provider,
        currency=order.currency,
    )
    partner_webhook_service.record_order_event(session, order.id, "completed")
