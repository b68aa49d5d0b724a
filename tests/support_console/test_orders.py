"""Order actions: refund whole or in parts through the provider, never twice; cancel an
unpaid order; retry a failed renewal. Each audited with before/after; refusals change
nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.payments import jobs
from tests.support_console.conftest import Recorded, Scene, rows, staff
from tulpar import clock
from tulpar.errors import ForbiddenError
from tulpar.fulfilment import provisioning as fulfilment_provisioning
from tulpar.fulfilment import refunds, support_actions
from tulpar.fulfilment.refunds import NothingToRefundError, RefundAmountInvalidError
from tulpar.integrations.carrier.protocol import CarrierResponse, CarrierStatus
from tulpar.models import (
    CarrierCall,
    Notification,
    OrderEvent,
    OrderState,
    ProvisioningState,
    Refund,
    RefundState,
)
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.payment import refunds as payment_refunds
from tulpar.provisioning import service as provisioning_service
from tulpar.support.tickets import ReasonRequiredError

SUPPORT = staff("support")


def _settle(session: Session, refund_id: int) -> None:
    """What the payment.refund job does for a refund the provider took."""
    report = payment_refunds.record_refund(
        session, refund_id, succeeded=True, reference=f"re_{refund_id}", failure_message=None
    )
    assert report is not None
    refunds.on_refund(session, report)


def test_a_whole_refund_is_audited_queued_and_told_to_the_traveller(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    requested = support_actions.refund(
        session, SUPPORT, failed_order.order.id, amount_minor=None, reason="carrier down"
    )

    assert requested.amount.amount_minor == 3_500_00
    assert [job["refund_id"] for job in jobs(session, "payment.refund")] == [requested.refund_id]
    sms = session.scalars(
        select(Notification).where(Notification.template == "refund_issued")
    ).one()
    assert sms.language == "zh-Hans"
    assert sms.body == f"【Tulpar】订单{failed_order.order.id}的3,500 KZT正在原路退回。"
    (record,) = audited
    assert record.action == "order.refund"
    assert record.reason == "carrier down"
    assert record.before == {
        "state": "provisioning_failed",
        "refunded_minor": 0,
        "refundable_minor": 3_500_00,
        "currency": "KZT",
    }
    assert record.after is not None
    assert record.after["refunded_minor"] == 3_500_00
    assert record.after["refundable_minor"] == 0

    _settle(session, requested.refund_id)
    session.refresh(failed_order.order)
    assert failed_order.order.state is OrderState.refunded


def test_a_partial_refund_then_the_rest(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    order_id = failed_order.order.id
    first = support_actions.refund(
        session, SUPPORT, order_id, amount_minor=1_000_00, reason="goodwill"
    )
    _settle(session, first.refund_id)
    session.refresh(failed_order.order)
    assert failed_order.order.state is OrderState.provisioning_failed  # a part leaves it

    rest = support_actions.refund(session, SUPPORT, order_id, amount_minor=None, reason="rest")
    assert rest.amount.amount_minor == 2_500_00
    _settle(session, rest.refund_id)
    session.refresh(failed_order.order)
    assert failed_order.order.state is OrderState.refunded
    numbers = session.execute(select(Refund.number, Refund.amount_minor).order_by(Refund.id)).all()
    assert [tuple(row) for row in numbers] == [(1, 1_000_00), (2, 2_500_00)]
    assert [r.after["refunded_minor"] for r in audited if r.after] == [1_000_00, 3_500_00]


def test_refunding_twice_does_not_double(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    support_actions.refund(session, SUPPORT, failed_order.order.id, amount_minor=None, reason="x")
    refunds_before, sms_before = rows(session, Refund), rows(session, Notification)

    with pytest.raises(NothingToRefundError):
        support_actions.refund(
            session, SUPPORT, failed_order.order.id, amount_minor=None, reason="again"
        )
    with pytest.raises(NothingToRefundError):
        support_actions.refund(
            session, SUPPORT, failed_order.order.id, amount_minor=1, reason="again"
        )

    assert (rows(session, Refund), rows(session, Notification)) == (refunds_before, sms_before)
    assert len(audited) == 1


@pytest.mark.parametrize("amount", [0, -5, 3_500_01])
def test_a_refund_of_a_wrong_amount_changes_nothing(
    session: Session, failed_order: Scene, audited: list[Recorded], amount: int
) -> None:
    with pytest.raises(RefundAmountInvalidError):
        support_actions.refund(
            session, SUPPORT, failed_order.order.id, amount_minor=amount, reason="x"
        )
    assert rows(session, Refund) == 0
    assert audited == []


def test_a_refund_needs_a_reason_and_the_role(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    with pytest.raises(ReasonRequiredError):
        support_actions.refund(
            session, SUPPORT, failed_order.order.id, amount_minor=None, reason=" "
        )
    with pytest.raises(ForbiddenError):
        support_actions.refund(
            session, staff("clerk"), failed_order.order.id, amount_minor=None, reason="x"
        )
    assert rows(session, Refund) == 0
    assert rows(session, Notification) == 0
    assert audited == []


def test_cancel_only_an_unpaid_order(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    events = rows(session, OrderEvent)
    with pytest.raises(support_actions.ActionRefusedError):
        support_actions.cancel(session, SUPPORT, failed_order.order.id, reason="x")
    assert rows(session, OrderEvent) == events
    assert audited == []

    failed_order.order.state = OrderState.awaiting_payment
    session.flush()
    support_actions.cancel(session, SUPPORT, failed_order.order.id, reason="asked by phone")
    session.refresh(failed_order.order)
    assert failed_order.order.state is OrderState.expired
    (record,) = audited
    assert record.before is not None
    assert record.before["state"] == "awaiting_payment"
    assert record.after is not None
    assert record.after["state"] == "expired"
    event = session.scalars(select(OrderEvent).order_by(OrderEvent.id.desc())).first()
    assert event is not None
    assert event.reason == "cancelled by support: asked by phone"


def test_retry_is_refused_after_a_refund(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    support_actions.refund(session, SUPPORT, failed_order.order.id, amount_minor=100, reason="x")
    audited.clear()
    with pytest.raises(support_actions.ActionRefusedError):
        support_actions.retry_provisioning(session, SUPPORT, failed_order.order.id, reason="x")
    session.refresh(failed_order.order)
    assert failed_order.order.state is OrderState.provisioning_failed
    assert audited == []


def test_search_finds_by_card_and_order(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    by_card = support_actions.search(session, SUPPORT, failed_order.card.iccid)
    assert [o.id for o in by_card.orders] == [failed_order.order.id]
    by_order = support_actions.search(session, SUPPORT, str(failed_order.order.id))
    assert [o.id for o in by_order.orders] == [failed_order.order.id]
    assert [r.action for r in audited] == ["order.search", "order.search"]
    timeline = support_actions.order_timeline(session, failed_order.order)
    assert "payment_attempt" in {entry["what"] for entry in timeline}


def test_refund_states_named() -> None:
    assert RefundState.requested in refunds._COUNTED


def test_retry_after_the_automatic_refund_failed_applies_the_bundle(
    session: Session, failed_order: Scene, audited: list[Recorded]
) -> None:
    """Provisioning failed and the automatic refund was refused by the provider: support
    applies the renewal again through the provisioning path, and it completes."""
    order = failed_order.order
    order.state = OrderState.paid
    session.flush()
    assert order_service.move(
        session, order.id, OrderMove.start_provisioning, actor="test", reason="test"
    )
    provisioning = provisioning_service.start(session, order, now=clock.now())
    provisioning.state = ProvisioningState.failed
    assert order_service.move(
        session, order.id, OrderMove.fail_provisioning, actor="test", reason="rejected"
    )
    payment_refunds.refund_order(session, order_id=order.id, reason="provisioning failed")
    (automatic,) = session.scalars(select(Refund)).all()
    payment_refunds.record_refund(
        session, automatic.id, succeeded=False, reference=None, failure_message="card expired"
    )

    support_actions.retry_provisioning(session, SUPPORT, order.id, reason="carrier fixed it")

    session.refresh(order)
    assert order.state is OrderState.provisioning
    assert [job["order_id"] for job in jobs(session, "provisioning.apply")] == [order.id]
    (record,) = audited
    assert record.before is not None
    assert record.after is not None
    assert (record.before["state"], record.after["state"]) == (
        "provisioning_failed",
        "provisioning",
    )
    planned = fulfilment_provisioning.begin(session, order.id, now=clock.now())
    assert planned is not None
    assert planned.call is CarrierCall.apply_bundle
    fulfilment_provisioning.record_answer(
        session,
        planned,
        answer=CarrierResponse(
            reference=planned.reference, status=CarrierStatus.applied, carrier_reference="c-1"
        ),
        now=clock.now(),
    )
    session.refresh(order)
    assert order.state is OrderState.completed
