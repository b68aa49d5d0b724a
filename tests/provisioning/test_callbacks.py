"""The carrier's signed callbacks, polling, and both racing to complete one order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import (
    CALLBACK_SECRET,
    count,
    create_paid_order,
    order_state,
    outcome_counts,
    run_jobs_until,
)
from tests.provisioning.fakes import ScriptedCarrier
from tulpar import clock
from tulpar.app import create_app
from tulpar.carrier_sim.server import app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.db import transaction
from tulpar.fulfilment import inbox as fulfilment_inbox
from tulpar.fulfilment import provisioning as fulfilment_provisioning
from tulpar.fulfilment import tasks
from tulpar.inbox import service as inbox_service
from tulpar.integrations.carrier import use_carrier
from tulpar.integrations.carrier.protocol import CarrierResponse, CarrierStatus
from tulpar.integrations.carrier.wire import SIGNATURE_HEADER
from tulpar.integrations.signature import sign
from tulpar.models import CarrierCall, InboxMessage, Provisioning
from tulpar.provisioning import callbacks, service


def _event(reference: str, *, event_id: str = "evt_1", status: str = "applied") -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "reference": reference,
            "status": status,
            "carrier_reference": "sim-abc",
            "occurred_at": "2026-11-24T06:00:00Z",
        }
    ).encode()


def _jobs(session: Session, task: str) -> int:
    return int(
        session.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"),
            {"task": task},
        ).scalar_one()
    )


class TestTheCallbackEndpoint:
    @pytest.fixture
    def client(
        self, session_factory: sessionmaker[Session], configure: Callable[..., None]
    ) -> TestClient:
        configure(carrier_callback_secret=CALLBACK_SECRET)
        return TestClient(create_app(session_factory))

    def test_a_signed_callback_is_stored_once_and_queued_once(
        self, client: TestClient, session: Session
    ) -> None:
        body = _event("order-1")
        headers = {SIGNATURE_HEADER: sign(CALLBACK_SECRET, body)}

        first = client.post("/carrier/callbacks", content=body, headers=headers)
        replays = [
            client.post("/carrier/callbacks", content=body, headers=headers) for _ in range(4)
        ]

        assert (first.status_code, first.json()) == (202, {"accepted": True, "duplicate": False})
        assert {(r.status_code, r.json()["duplicate"]) for r in replays} == {(202, True)}
        stored = session.scalars(select(InboxMessage)).one()
        assert (stored.source, stored.external_id, stored.subject, stored.kind) == (
            "carrier",
            "evt_1",
            "order-1",
            "applied",
        )
        assert _jobs(session, inbox_service.HANDLE_TASK) == 1

    @pytest.mark.parametrize(
        "forge",
        [
            lambda body: None,
            lambda body: "t=1,v1=deadbeef",
            lambda body: sign("another secret", body),
            lambda body: sign(CALLBACK_SECRET, body, timestamp=int(time.time()) - 301),
            lambda body: sign(CALLBACK_SECRET, _event("order-2")),  # signs another body
        ],
        ids=["missing", "malformed", "other_secret", "stale", "other_body"],
    )
    def test_a_forged_or_stale_signature_is_refused_and_nothing_is_stored(
        self, client: TestClient, session: Session, forge: Callable[[bytes], str | None]
    ) -> None:
        body = _event("order-1")
        signature = forge(body)
        headers = {} if signature is None else {SIGNATURE_HEADER: signature}

        response = client.post("/carrier/callbacks", content=body, headers=headers)

        assert response.status_code == 401
        assert response.json()["code"] == "invalid_carrier_signature"
        assert count(session, InboxMessage) == 0
        assert _jobs(session, inbox_service.HANDLE_TASK) == 0

    def test_a_signed_body_that_is_not_an_event_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        body = b'{"reference": "order-1"}'

        response = client.post(
            "/carrier/callbacks",
            content=body,
            headers={SIGNATURE_HEADER: sign(CALLBACK_SECRET, body)},
        )

        assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
        assert count(session, InboxMessage) == 0

    def test_without_a_secret_callbacks_are_refused(
        self,
        session_factory: sessionmaker[Session],
        configure: Callable[..., None],
        session: Session,
    ) -> None:
        configure(carrier_callback_secret="")
        body = _event("order-1")

        response = TestClient(create_app(session_factory)).post(
            "/carrier/callbacks", content=body, headers={SIGNATURE_HEADER: sign("x", body)}
        )

        assert (response.status_code, response.json()["code"]) == (
            503,
            "carrier_callbacks_disabled",
        )
        assert count(session, InboxMessage) == 0


def _pending_order(factory: sessionmaker[Session], carrier: ScriptedCarrier) -> tuple[int, int]:
    """A paid order whose first carrier call answered "pending"."""
    with factory() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        session.commit()
        order_id, card_id = order.id, card.id
    with use_carrier(carrier):
        tasks.apply(order_id=order_id)
    assert order_state(factory, order_id) == "provisioning"
    return order_id, card_id


class TestCallbackAndPollingRace:
    @pytest.mark.parametrize("round_", range(4))
    def test_one_of_them_completes_the_other_changes_nothing(
        self,
        committed: sessionmaker[Session],
        configure: Callable[..., None],
        round_: int,
    ) -> None:
        configure(carrier_callback_secret=CALLBACK_SECRET, provisioning_poll_after_seconds=60)
        order_id, card_id = _pending_order(
            committed, ScriptedCarrier(apply_status=CarrierStatus.pending)
        )
        with transaction(committed) as session:
            body = _event(f"order-{order_id}")
            assert callbacks.receive(session, body=body, signature=sign(CALLBACK_SECRET, body))
        with transaction(committed) as session:
            callback_id = session.scalars(select(InboxMessage.id)).one()
            planned = fulfilment_provisioning.begin(session, order_id, now=clock.now())
        assert planned is not None
        assert planned.call is CarrierCall.get_status

        start = threading.Barrier(2)
        outcomes: list[str | None] = []

        def by_callback() -> None:
            start.wait(timeout=5)
            with transaction(committed) as session:
                outcomes.append(fulfilment_inbox.handle(session, callback_id))

        def by_poll() -> None:
            start.wait(timeout=5)
            answer = CarrierResponse(reference=planned.reference, status=CarrierStatus.applied)
            with transaction(committed) as session:
                outcomes.append(
                    fulfilment_provisioning.record_answer(
                        session, planned, answer=answer, now=clock.now()
                    )
                )

        threads = [threading.Thread(target=by_callback), threading.Thread(target=by_poll)]
        for thread in threads[:: 1 if round_ % 2 else -1]:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)

        assert sorted(str(outcome) for outcome in outcomes) == ["already_settled", "completed"]
        assert order_state(committed, order_id) == "completed"
        with committed() as session:
            assert outcome_counts(session, order_id, card_id) == {
                "bundles": 1,
                "receipts": 1,
                "sms": 1,
                "tickets": 0,
            }
            callback = session.scalars(select(InboxMessage)).one()
            assert callback.handled_at is not None
            assert callback.outcome in {"completed", "already_settled"}


class TestAsynchronousCompletionEndToEnd:
    def test_the_carriers_signed_callback_completes_the_order(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        configure(carrier_callback_secret=CALLBACK_SECRET, provisioning_poll_after_seconds=600)
        with committed() as session:
            plan = create_plan(session)
            card, _ = create_active_card(session, plan=plan)
            order = create_paid_order(session, card=card, plan=plan)
            service.enqueue(session, order_id=order.id, card_id=card.id)
            session.commit()
            order_id = order.id

        with app_in_thread(create_app()) as tulpar_url:
            settings = SimulatorSettings(
                callback_url=f"{tulpar_url}/carrier/callbacks",
                callback_secret=CALLBACK_SECRET,
                completion_delay_ms=50,
            )
            with simulator_in_thread(settings) as simulator:
                configure(carrier_url=simulator.url)
                run_jobs_until(
                    committed,
                    lambda s: s.scalars(select(Provisioning.state)).one() == "completed",
                )

        with committed() as session:
            provisioning = session.scalars(select(Provisioning)).one()
            assert (provisioning.completed_via, provisioning.attempts) == ("callback", 1)
            assert count(session, InboxMessage, outcome="completed") == 1
            # The poll that was waiting as a fallback was cancelled: it holds no card lock.
            polls = session.execute(
                text(
                    "SELECT status::text FROM procrastinate_jobs"
                    " WHERE task_name = 'provisioning.apply' ORDER BY id"
                )
            ).scalars()
            assert list(polls) == ["succeeded", "cancelled"]
            assert provisioning.next_job_id is None
        assert order_state(committed, order_id) == "completed"

    def test_polling_completes_the_order_when_no_callback_arrives(
        self, committed: sessionmaker[Session], configure: Callable[..., None]
    ) -> None:
        configure(provisioning_poll_after_seconds=0.1)
        with committed() as session:
            plan = create_plan(session)
            card, _ = create_active_card(session, plan=plan)
            order = create_paid_order(session, card=card, plan=plan)
            service.enqueue(session, order_id=order.id, card_id=card.id)
            session.commit()
            order_id = order.id
        settings = SimulatorSettings(
            callback_url="http://127.0.0.1:9/nowhere",  # callbacks get lost
            callback_secret=CALLBACK_SECRET,
            callback_attempts=1,
            completion_delay_ms=150,
        )
        with simulator_in_thread(settings) as simulator:
            configure(carrier_url=simulator.url)
            run_jobs_until(
                committed, lambda s: s.scalars(select(Provisioning.state)).one() == "completed"
            )
            assert simulator.book.applications == {f"order-{order_id}": 1}

        with committed() as session:
            provisioning = session.scalars(select(Provisioning)).one()
            assert provisioning.completed_via == "poll"
            assert count(session, InboxMessage) == 0
