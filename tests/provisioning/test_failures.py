"""Carrier outages, permanent refusals and a worker killed mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import (
    count,
    create_paid_order,
    order_state,
    outcome_counts,
    run_jobs_until,
)
from tests.provisioning.fakes import ScriptedCarrier
from tulpar import clock
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import Outage, SimulatorSettings
from tulpar.fulfilment import provisioning as fulfilment_provisioning
from tulpar.fulfilment import tasks
from tulpar.integrations.carrier import use_carrier
from tulpar.integrations.carrier.protocol import (
    ApplyBundleRequest,
    CarrierResponse,
    CarrierStatus,
)
from tulpar.models import (
    Bundle,
    Notification,
    OrderEvent,
    Provisioning,
    ProvisioningAttempt,
    Refund,
    Ticket,
)
from tulpar.provisioning import service, settlement
from tulpar.provisioning.settlement import Settled

FAST_RETRIES = {"provisioning_backoff_base_seconds": 0.05, "provisioning_backoff_max_seconds": 0.2}


def _queued_order(factory: sessionmaker[Session]) -> tuple[int, int, str]:
    with factory() as session:
        plan = create_plan(session, validity_days=7)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        service.enqueue(session, order_id=order.id, card_id=card.id)
        session.commit()
        return order.id, card.id, card.iccid


def _attempt_outcomes(session: Session, order_id: int) -> list[str | None]:
    query = (
        select(ProvisioningAttempt.outcome)
        .where(ProvisioningAttempt.order_id == order_id)
        .order_by(ProvisioningAttempt.number)
    )
    return list(session.scalars(query))


def _settled(state: str) -> Callable[[Session], bool]:
    def done(session: Session) -> bool:
        return session.scalars(select(Provisioning.state)).one_or_none() == state

    return done


class TestOutages:
    def test_an_outage_shorter_than_the_window_ends_in_completion(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, _ = _queued_order(committed)
        carrier_seconds = [0.0]  # the simulator's clock: the outage ends when the test says

        def end_the_outage_once_refused(session: Session) -> bool:
            if "unavailable" in _attempt_outcomes(session, order_id):
                carrier_seconds[0] = 60.0
            return _settled("completed")(session)

        with simulator_in_thread(
            SimulatorSettings(outages=(Outage(0, 30),)), clock=lambda: carrier_seconds[0]
        ) as simulator:
            configure(
                carrier_url=simulator.url, provisioning_retry_window_seconds=20, **FAST_RETRIES
            )
            run_jobs_until(committed, end_the_outage_once_refused)
            assert simulator.book.applications == {f"order-{order_id}": 1}

        assert order_state(committed, order_id) == "completed"
        with committed() as session:
            outcomes = _attempt_outcomes(session, order_id)
            assert len(outcomes) >= 2
            assert outcomes[:-1] == ["unavailable"] * (len(outcomes) - 1)
            assert outcomes[-1] == "applied"
            assert outcome_counts(session, order_id, card_id) == {
                "bundles": 1,
                "receipts": 1,
                "sms": 1,
                "tickets": 0,
            }

    def test_an_outage_longer_than_the_window_refunds_tells_and_opens_one_ticket(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, _ = _queued_order(committed)
        with simulator_in_thread(SimulatorSettings(outages=(Outage(0, 600),))) as simulator:
            configure(
                carrier_url=simulator.url, provisioning_retry_window_seconds=3, **FAST_RETRIES
            )
            run_jobs_until(committed, _settled("failed"))
            assert simulator.book.bookings == {}

        with committed() as session:
            outcomes = _attempt_outcomes(session, order_id)
            assert len(outcomes) >= 2
            assert set(outcomes) == {"unavailable"}
            assert count(session, Bundle, order_id=order_id) == 0
            refund = session.scalars(select(Refund).where(Refund.order_id == order_id)).one()
            assert (refund.amount_minor, refund.currency) == (3_500_00, "KZT")
            assert refund.reason == "provisioning failed: retry window ended (unavailable)"
            sms = session.scalars(select(Notification).where(Notification.card_id == card_id)).one()
            assert (sms.template, sms.dedupe_key) == (
                "renewal_refunded",
                f"order:{order_id}:renewal_refunded",
            )
            ticket = session.scalars(select(Ticket).where(Ticket.order_id == order_id)).one()
            assert (ticket.kind, ticket.status, ticket.card_id) == (
                "provisioning_failed",
                "open",
                card_id,
            )
            whats = [entry["what"] for entry in ticket.timeline]
            assert whats.count("carrier_call") == len(outcomes)
            assert [
                (entry["from_state"], entry["to_state"])
                for entry in ticket.timeline
                if entry["what"] == "order_event"
            ] == [("paid", "provisioning"), ("provisioning", "provisioning_failed")]
            failed = session.scalars(
                select(OrderEvent).where(
                    OrderEvent.order_id == order_id, OrderEvent.to_state == "provisioning_failed"
                )
            ).one()
            assert failed.reason == "provisioning failed: retry window ended (unavailable)"

            # Settling again (a late callback, a stray job) changes nothing.
            provisioning = session.scalars(select(Provisioning).with_for_update()).one()
            again = fulfilment_provisioning.on_settlement(
                session, settlement.fail(session, provisioning, reason="again", now=clock.now())
            )
            assert again is Settled.already_settled
            session.commit()
            assert outcome_counts(session, order_id, card_id) == {
                "bundles": 0,
                "receipts": 0,
                "sms": 1,
                "tickets": 1,
            }
            assert count(session, Refund, order_id=order_id) == 1

    def test_a_permanent_error_fails_at_once(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, iccid = _queued_order(committed)
        settings = SimulatorSettings(permanent_error_iccids=frozenset({iccid}))
        with simulator_in_thread(settings) as simulator:
            configure(
                carrier_url=simulator.url, provisioning_retry_window_seconds=600, **FAST_RETRIES
            )
            run_jobs_until(committed, _settled("failed"))

        with committed() as session:
            assert _attempt_outcomes(session, order_id) == ["failed_permanently"]
            provisioning = session.scalars(select(Provisioning)).one()
            assert provisioning.last_error == "number_recycled"
            assert outcome_counts(session, order_id, card_id) == {
                "bundles": 0,
                "receipts": 0,
                "sms": 1,
                "tickets": 1,
            }


KILLABLE_WORKER = Path(__file__).with_name("killable_worker.py")


class TestWorkerKilledBetweenCarrierAndLocalApply:
    def test_the_restarted_job_applies_exactly_one_bundle(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        order_id, card_id, _ = _queued_order(committed)
        with simulator_in_thread(SimulatorSettings()) as simulator:
            configure(carrier_url=simulator.url)
            worker = subprocess.Popen(
                [sys.executable, str(KILLABLE_WORKER), str(order_id)],
                env={**os.environ, "TULPAR_CARRIER_URL": simulator.url},
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                line = _read_line(worker, timeout=30)
                assert line == "carrier answered applied"
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                assert worker.stdout is not None
                worker.stdout.close()
            assert worker.returncode == -signal.SIGKILL
            assert simulator.book.applications == {f"order-{order_id}": 1}

            # The carrier applied it, we did not: the order waits, its attempt has no answer.
            assert order_state(committed, order_id) == "provisioning"
            with committed() as session:
                assert _attempt_outcomes(session, order_id) == [None]
                assert count(session, Bundle, order_id=order_id) == 0

            # The sweep finds it overdue and queues it again; a worker finishes it.
            with committed() as session, clock.frozen(clock.now() + timedelta(minutes=3)):
                assert service.requeue_overdue(session, now=clock.now()) == 1
                session.commit()
            run_jobs_until(committed, _settled("completed"))
            tasks.apply(order_id=order_id)  # and once more, for good measure

            assert simulator.book.applications == {f"order-{order_id}": 1}

        with committed() as session:
            assert _attempt_outcomes(session, order_id) == [None, "applied"]
            assert outcome_counts(session, order_id, card_id) == {
                "bundles": 1,
                "receipts": 1,
                "sms": 1,
                "tickets": 0,
            }


def _read_line(process: subprocess.Popen[str], *, timeout: float) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not lines:
        raise AssertionError("the worker did not reach the carrier in time")
    return lines[0].strip()


class _BrokenCarrier(ScriptedCarrier):
    def apply_bundle(self, request: ApplyBundleRequest, *, timeout: float) -> CarrierResponse:
        raise RuntimeError("boom")


def test_an_adapter_bug_is_retried_like_an_outage(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id, _, _ = _queued_order(committed)
    configure(provisioning_retry_window_seconds=600)

    with use_carrier(_BrokenCarrier()):
        tasks.apply(order_id=order_id)

    assert order_state(committed, order_id) == "provisioning"
    with committed() as session:
        attempt = session.scalars(select(ProvisioningAttempt)).one()
        assert (attempt.outcome, attempt.message) == (
            "unavailable",
            "adapter error: RuntimeError: boom",
        )
        provisioning = session.scalars(select(Provisioning)).one()
        assert provisioning.state == "in_progress"
        # The job queued with the payment still waits, so the retry is that same job.
        waiting = session.execute(
            text("SELECT id FROM procrastinate_jobs WHERE status = 'todo'")
        ).scalar_one()
        assert provisioning.next_job_id == waiting


def test_a_card_recycled_before_provisioning_fails_without_calling_the_carrier(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        plan = create_plan(session, validity_days=7)
        card, _ = create_active_card(session, plan=plan, days_ago=40)  # grace ended 3 days ago
        order = create_paid_order(session, card=card, plan=plan)
        session.commit()
        order_id, card_id = order.id, card.id
    carrier = ScriptedCarrier()

    with use_carrier(carrier):
        tasks.apply(order_id=order_id)

    assert carrier.calls == []
    assert order_state(committed, order_id) == "provisioning_failed"
    with committed() as session:
        provisioning = session.scalars(select(Provisioning)).one()
        assert (provisioning.attempts, provisioning.last_error) == (0, "card_terminated")
        assert outcome_counts(session, order_id, card_id) == {
            "bundles": 0,
            "receipts": 0,
            "sms": 1,
            "tickets": 1,
        }
        assert count(session, Refund, order_id=order_id) == 1


def test_a_bundle_the_carrier_accepted_is_awaited_past_the_window_with_a_ticket(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    configure(provisioning_retry_window_seconds=0.2)
    with committed() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        session.commit()
        order_id, card_id = order.id, card.id
    carrier = ScriptedCarrier(
        apply_status=CarrierStatus.pending, status_answer=CarrierStatus.pending
    )

    accepted_at = clock.now()
    with use_carrier(carrier):
        with clock.frozen(accepted_at):
            tasks.apply(order_id=order_id)  # accepted: pending
        with clock.frozen(accepted_at + timedelta(seconds=1)):
            tasks.apply(order_id=order_id)  # still pending after the window
            tasks.apply(order_id=order_id)  # and again: one ticket only

    assert order_state(committed, order_id) == "provisioning"
    with committed() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.kind, ticket.order_id) == ("paid_not_applied", order_id)
        assert "still polling" in ticket.subject
        assert count(session, Refund, order_id=order_id) == 0

    carrier.status_answer = CarrierStatus.applied
    with use_carrier(carrier):
        tasks.apply(order_id=order_id)

    assert [call for call, _ in carrier.calls] == ["apply_bundle"] + ["get_status"] * 3
    assert order_state(committed, order_id) == "completed"
    with committed() as session:
        assert outcome_counts(session, order_id, card_id) == {
            "bundles": 1,
            "receipts": 1,
            "sms": 1,
            "tickets": 1,
        }
