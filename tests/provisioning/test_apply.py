"""A paid renewal is applied on the carrier (the simulator over HTTP) and then here, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import (
    count,
    create_paid_order,
    order_state,
    outcome_counts,
    run_jobs_until,
)
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.fulfilment import tasks
from tulpar.jobs import defer_in_transaction
from tulpar.models import (
    Bundle,
    Card,
    LedgerCause,
    LedgerEntry,
    Notification,
    OrderEvent,
    Provisioning,
    ProvisioningAttempt,
    Receipt,
)
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.provisioning import service


def _prepare(
    factory: sessionmaker[Session], *, validity_days: int = 15
) -> tuple[int, int, datetime | None]:
    with factory() as session:
        plan = create_plan(session, validity_days=validity_days)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        session.commit()
        return order.id, card.id, card.validity_ends_at


class TestHappyPath:
    def test_a_paid_renewal_is_applied_confirmed_and_receipted_once(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, validity_before = _prepare(committed)
        with simulator_in_thread(SimulatorSettings()) as simulator:
            configure(carrier_url=simulator.url)
            tasks.apply(order_id=order_id)
            tasks.apply(order_id=order_id)  # a repeated job changes nothing

            assert simulator.book.applications == {f"order-{order_id}": 1}
            assert simulator.book.requests_seen == 1

        assert order_state(committed, order_id) == "completed"
        with committed() as session:
            assert outcome_counts(session, order_id, card_id) == {
                "bundles": 1,
                "receipts": 1,
                "sms": 1,
                "tickets": 0,
            }
            bundle = session.scalars(select(Bundle).where(Bundle.order_id == order_id)).one()
            assert validity_before is not None
            assert bundle.expires_at == validity_before + timedelta(days=15)
            entries = session.scalars(
                select(LedgerEntry).where(LedgerEntry.bundle_id == bundle.id)
            ).all()
            assert {entry.cause for entry in entries} == {LedgerCause.order}
            assert {entry.order_id for entry in entries} == {order_id}
            sms = session.scalars(select(Notification).where(Notification.card_id == card_id)).one()
            assert (sms.template, sms.dedupe_key) == (
                "renewal_confirmed",
                f"order:{order_id}:confirmed",
            )
            receipt = session.scalars(select(Receipt).where(Receipt.order_id == order_id)).one()
            assert (receipt.issuer, receipt.total_minor, receipt.payment_method) == (
                "WEB",
                3_500_00,
                "sandbox",
            )
            provisioning = session.scalars(
                select(Provisioning).where(Provisioning.order_id == order_id)
            ).one()
            assert (provisioning.state, provisioning.completed_via, provisioning.attempts) == (
                "completed",
                "response",
                1,
            )
            events = session.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
            ).all()
            assert [(e.from_state, e.to_state) for e in events] == [
                ("paid", "provisioning"),
                ("provisioning", "completed"),
            ]
            assert {e.actor for e in events} == {"system:provisioning"}

    def test_a_real_worker_runs_the_job_queued_with_the_payment(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, _ = _prepare(committed)
        with committed() as session:
            service.enqueue(session, order_id=order_id, card_id=card_id)
            session.commit()
        with simulator_in_thread(SimulatorSettings()) as simulator:
            configure(carrier_url=simulator.url)
            run_jobs_until(committed, lambda s: count(s, Bundle, order_id=order_id) == 1)

        assert order_state(committed, order_id) == "completed"
        with committed() as session:
            assert count(session, ProvisioningAttempt, order_id=order_id) == 1

    def test_an_order_that_is_not_paid_is_left_alone(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, _ = _prepare(committed)
        with committed() as session:
            assert order_service.move(
                session,
                order_id,
                OrderMove.refund,
                actor="test",
                reason="refunded by support before provisioning",
            )
            session.commit()
        with simulator_in_thread(SimulatorSettings()) as simulator:
            configure(carrier_url=simulator.url)
            tasks.apply(order_id=order_id)
            assert simulator.book.requests_seen == 0

        assert order_state(committed, order_id) == "refunded"
        with committed() as session:
            assert count(session, Provisioning) == 0
            assert outcome_counts(session, order_id, card_id)["bundles"] == 0


class TestTwoRenewalsOfOneCard:
    def test_both_apply_one_after_the_other(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        with committed() as session:
            week = create_plan(session, validity_days=7)
            month = create_plan(session, validity_days=30)
            card, _ = create_active_card(session, plan=week)
            validity_before = card.validity_ends_at
            first = create_paid_order(session, card=card, plan=week)
            second = create_paid_order(session, card=card, plan=month)
            service.enqueue(session, order_id=first.id, card_id=card.id)
            service.enqueue(session, order_id=second.id, card_id=card.id)
            session.commit()
            ids, card_id = (first.id, second.id), card.id

        with simulator_in_thread(SimulatorSettings(latency_ms=20)) as simulator:
            configure(carrier_url=simulator.url)
            run_jobs_until(
                committed,
                lambda s: sum(count(s, Bundle, order_id=i) for i in ids) == 2,
            )

        with committed() as session:
            bundles = session.scalars(
                select(Bundle).where(Bundle.order_id.in_(ids)).order_by(Bundle.id)
            ).all()
            assert [b.order_id for b in bundles] == list(ids)  # in order-id order
            assert validity_before is not None
            # "extend": the second renewal starts from the first one's end and replaces it.
            assert bundles[1].expires_at == validity_before + timedelta(days=7 + 30)
            assert [b.state for b in bundles] == ["revoked", "active"]
            renewed = session.get(Card, card_id)
            assert renewed is not None
            assert renewed.validity_ends_at == validity_before + timedelta(days=7 + 30)
            assert {order_state(committed, i) for i in ids} == {"completed"}
            assert count(session, Notification, card_id=card_id) == 2


class TestOrderIdOrderWithoutTheCardLock:
    def test_a_later_renewal_picked_up_first_waits_for_the_earlier_one(
        self,
        committed: sessionmaker[Session],
        configure: Callable[..., None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(
            service, "WAIT_BEHIND_EARLIER", (timedelta(milliseconds=50), timedelta(seconds=1))
        )
        with committed() as session:
            week = create_plan(session, validity_days=7)
            card, _ = create_active_card(session, plan=week)
            first = create_paid_order(session, card=card, plan=week)
            second = create_paid_order(session, card=card, plan=week)
            # Queued as a payment might queue them: no card lock, the later order first.
            defer_in_transaction(session, "provisioning.apply", order_id=second.id)
            defer_in_transaction(session, "provisioning.apply", order_id=first.id)
            session.commit()
            ids = (first.id, second.id)

        with simulator_in_thread(SimulatorSettings()) as simulator:
            configure(carrier_url=simulator.url)
            run_jobs_until(committed, lambda s: sum(count(s, Bundle, order_id=i) for i in ids) == 2)

        with committed() as session:
            bundles = session.scalars(
                select(Bundle).where(Bundle.order_id.in_(ids)).order_by(Bundle.id)
            ).all()
            assert [b.order_id for b in bundles] == list(ids)
            starts = session.execute(
                select(Provisioning.order_id).order_by(Provisioning.id)
            ).scalars()
            assert list(starts) == list(ids)
