"""A paid renewal on its way to the carrier, and what each settlement does to its order:
applied → the order completes, the bundle is applied here, the traveller gets the
confirmation SMS and a receipt; failed → the order fails, the payment is refunded, the
traveller is told and support gets a ticket. Each happens once per order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tulpar.bundle import service as bundle_service
from tulpar.card import service as card_service
from tulpar.fulfilment import pricing, tickets
from tulpar.integrations.carrier.protocol import CarrierResponse
from tulpar.kit import metrics
from tulpar.models import LedgerCause, Order, OrderKind, OrderState, TicketKind
from tulpar.notification import service as notification_service
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.partner_webhook import service as partner_webhook_service
from tulpar.payment import service as payment_service
from tulpar.provisioning import service as provisioning_service
from tulpar.provisioning.service import PlannedCall
from tulpar.provisioning.settlement import Settled, Settlement
from tulpar.receipt import service as receipt_service

ACTOR = "system:provisioning"


def begin(
    session: Session, order_id: int, *, now: datetime, carried_by: int | None = None
) -> PlannedCall | None:
    """Start (or continue) provisioning a paid renewal and record its next carrier call;
    None when there is nothing to call now (not a paid renewal, waiting behind an older
    renewal of its card, settled, or failed before any call). ``carried_by``: the running
    job that makes the call itself (see ``provisioning.service.begin_call``)."""
    provisioning = provisioning_service.locked_for_order(session, order_id)
    if provisioning is None:
        try:
            # Read afresh, unless this transaction has locked it (paid it just now).
            order = order_service.held(session, order_id)
        except order_service.OrderNotFoundError:
            return None
        if not _starts_now(session, order, now=now):
            return None
        provisioning = provisioning_service.start(session, order, now=now)
    planned = provisioning_service.begin_call(session, provisioning, now=now, carried_by=carried_by)
    if isinstance(planned, Settlement):
        on_settlement(session, planned)
        return None
    return planned


def record_answer(
    session: Session,
    planned: PlannedCall,
    *,
    answer: CarrierResponse | None,
    error: str | None = None,
    now: datetime,
) -> Settled:
    """What the carrier answered ``planned`` (None: unreachable), and its consequences."""
    settlement = provisioning_service.record_answer(
        session, planned, answer=answer, error=error, now=now
    )
    return on_settlement(session, settlement)


def _starts_now(session: Session, order: Order, *, now: datetime) -> bool:
    if order.kind is not OrderKind.plan_renewal or order.state is not OrderState.paid:
        return False
    wait = provisioning_service.wait_behind_earlier(session, order, now=now)
    if wait is not None:
        provisioning_service.defer(session, order, delay=wait)
        return False
    return order_service.move(
        session,
        order.id,
        OrderMove.start_provisioning,
        actor=ACTOR,
        reason="applying the bundle on the carrier",
        details={"reference": provisioning_service.reference_for(order.id)},
    )


def on_settlement(session: Session, settlement: Settlement) -> Settled:
    """Act on one settlement; returns its outcome (``already_settled`` when the order had
    moved on)."""
    metrics.provisioning_outcome(settlement.outcome.value)
    if settlement.outcome is Settled.completed:
        return _completed(session, settlement)
    if settlement.outcome is Settled.failed:
        return _failed(session, settlement)
    if settlement.attention is not None:
        order = order_service.get(session, settlement.order_id)
        tickets.open_for_order(
            session,
            order,
            kind=TicketKind.paid_not_applied,
            subject=f"Order {order.id} ({order_service.plan_code_of(session, order)}):"
            f" {settlement.attention}",
            opened_by=ACTOR,
        )
    return settlement.outcome


def _completed(session: Session, settlement: Settlement) -> Settled:
    if not order_service.move(
        session,
        settlement.order_id,
        OrderMove.complete,
        actor=ACTOR,
        reason=f"bundle applied on the carrier ({settlement.via})",
        details={"reference": settlement.reference, "via": settlement.via},
    ):
        return Settled.already_settled
    order = order_service.held(session, settlement.order_id)  # what it bought and how
    card = card_service.get(session, order.card_id)
    plan = order_service.plan_of(session, order)
    bundle_service.apply_plan(
        session,
        card,
        plan,
        cause=LedgerCause.order,
        order_id=order.id,
        bonus_data_bytes=order.bonus_data_bytes,
        bonus_days=order.bonus_days,
    )
    pricing.redeem(session, order)
    notification_service.queue_sms(
        session,
        card_id=card.id,
        template="renewal_confirmed",
        context={"plan": plan.names, **pricing.message_context(session, order)},
        dedupe_key=f"order:{order.id}:confirmed",
    )
    receipt_service.issue(
        session,
        issuer=order.channel.value.upper(),
        card_id=card.id,
        order_id=order.id,
        lines=[pricing.receipt_line(session, order, plan, language=card.language)],
        payment_method=order.payment_provider,
        currency=order.currency,
    )
    partner_webhook_service.record_order_event(session, order.id, "completed")
    return Settled.completed


def _failed(session: Session, settlement: Settlement) -> Settled:
    reason = settlement.reason or "failed"
    if not order_service.move(
        session,
        settlement.order_id,
        OrderMove.fail_provisioning,
        actor=ACTOR,
        reason=f"provisioning failed: {reason}",
        details={"reference": settlement.reference, "attempts": settlement.attempts},
    ):
        return Settled.already_settled
    order = order_service.get(session, settlement.order_id)
    plan = order_service.plan_of(session, order)
    refund_requested = payment_service.refund(
        session, order_id=order.id, reason=f"provisioning failed: {reason}"
    )
    template = "renewal_refunded" if refund_requested else "renewal_failed"
    notification_service.queue_sms(
        session,
        card_id=order.card_id,
        template=template,
        context={
            "plan": plan.names,
            "order": order.id,
            "amount_minor": order.amount_minor,
            "currency": order.currency,
        },
        dedupe_key=f"order:{order.id}:{template}",
    )
    tickets.open_for_order(
        session,
        order,
        kind=TicketKind.provisioning_failed,
        subject=f"Order {order.id} ({plan.code}): provisioning failed ({reason});"
        f" {'refund requested' if refund_requested else 'nothing to refund'}",
        opened_by=ACTOR,
    )
    partner_webhook_service.record_order_event(session, order.id, "provisioning_failed")
    return Settled.failed
