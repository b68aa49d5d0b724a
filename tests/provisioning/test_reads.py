"""Provisioning a paid renewal reads its order, card and plan once in each of its
transactions (the step that starts it and the step that records the carrier's answer): the
steps that follow find the copy the transaction already holds."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.sms import RecordingSmsProvider
from tests.fixtures.statements import by_transaction, statements_run
from tests.payment.flow import seed
from tests.provisioning.conftest import (
    create_paid_order,
    handled_by_running_job,
    order_state,
    run_as_job,
)
from tulpar.app import create_app
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.fulfilment import paid, tasks
from tulpar.fulfilment.payments import on_payment
from tulpar.integrations.payments.protocol import ProviderPayment, ProviderStatus
from tulpar.integrations.sms import use_provider
from tulpar.models import Provisioning
from tulpar.payment import service as payment_service
from tulpar.provisioning import service as provisioning_service


def _rows_read_per_transaction(statements: list[str]) -> list[Counter[str]]:
    """Whole rows read (``SELECT t.id, t.… FROM t``), by table, in each transaction."""
    reads = [
        Counter(
            found.group(1)
            for statement in transaction
            if (found := re.match(r"SELECT (\w+)\.id, \1\.", statement))
        )
        for transaction in by_transaction(statements)
    ]
    return [read for read in reads if read]


def test_a_renewal_reads_its_order_card_and_plan_once_per_transaction(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    _, seen = _provisioned_by_a_job(committed, configure)
    reads = _rows_read_per_transaction(seen)
    starting, recording = reads[0], reads[1]
    assert (starting["orders"], starting["cards"], starting["plans"]) == (1, 1, 1), starting
    # The card twice: checked, then locked when its bundle is applied.
    assert (recording["orders"], recording["cards"], recording["plans"]) == (1, 2, 1), recording


def test_a_renewal_provisioned_in_line_names_its_job_with_the_call_and_cancels_nothing(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        message_id, job_id = handled_by_running_job(session, external_id="evt_reads")
        order_id = order.id
        in_line = paid.InLineProvisioning(job_id)
        with statements_run() as starting:
            paid.on_paid(session, order, in_line=in_line)
            session.commit()
    assert len(in_line.calls) == 1
    # The order was just paid in this transaction (so locked): its copy is not read again.
    assert not [s for s in starting if s.startswith("SELECT orders.id")], starting
    # The provisioning is looked for once (none yet), then inserted with its first call and
    # the job that makes it: one statement.
    assert len([s for s in starting if s.startswith("SELECT provisionings.id")]) == 1, starting
    assert len([s for s in starting if s.startswith("INSERT INTO provisionings")]) == 1, starting
    assert not [s for s in starting if s.startswith("UPDATE provisionings")], starting
    with committed() as session:
        carried = session.scalars(select(Provisioning).where(Provisioning.order_id == order_id))
        assert carried.one().next_job_id == job_id

    with (
        simulator_in_thread(SimulatorSettings()) as simulator,
        use_provider(RecordingSmsProvider()),
    ):
        configure(carrier_url=simulator.url)
        with statements_run() as finishing:
            # The job's retry carries the call on; settling it cancels no job: the one
            # carrying it is the job running.
            run_as_job(job_id, lambda: tasks.handle_inbox_message(message_id=message_id))

    assert order_state(committed, order_id) == "completed"
    cancels = [s for s in finishing if "procrastinate_cancel_job" in s]
    assert len(cancels) == 1, cancels  # the confirmation SMS's waiting job, once it is sent
    # How the attempt ended, the SMS and that it went are written without reading them back.
    assert not [s for s in finishing if s.startswith("SELECT provisioning_attempts.")], finishing
    assert not [s for s in finishing if s.startswith("SELECT notifications.")], finishing


def test_a_payment_that_arrives_locks_its_order_once_and_starts_the_renewal_from_that_copy(
    committed: sessionmaker[Session],
) -> None:
    iccid, headers = seed(committed)
    with TestClient(create_app()) as api:
        placed = api.post(
            "/v1/orders",
            json={"card": iccid, "plan": "P"},
            headers={**headers, "Idempotency-Key": "reads"},
        )
    assert placed.status_code == 201, placed.text
    order_id, payment_id = placed.json()["id"], placed.json()["payment"]["id"]
    with committed() as session:
        _, job_id = handled_by_running_job(session, external_id="evt_arrives")
        in_line = paid.InLineProvisioning(job_id)
        with statements_run() as handling:
            report = payment_service.apply_status(
                session, payment_id, ProviderPayment(reference="", status=ProviderStatus.succeeded)
            )
            assert on_payment(session, report, in_line=in_line) == "order paid"
            session.commit()

    assert order_state(committed, order_id) == "provisioning"
    assert len(in_line.calls) == 1
    reads = [s for s in handling if s.startswith("SELECT orders.id")]
    assert [read.endswith("FOR UPDATE") for read in reads] == [True], reads


def test_starting_a_renewal_inserts_its_provisioning_with_the_first_call_in_one_statement(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id, seen = _provisioned_by_a_job(committed, configure)
    starting = by_transaction(seen)[0]
    writes = [s for s in starting if re.match(r"(INSERT INTO|UPDATE) provisionings ", s)]
    assert len(writes) == 1, writes
    assert writes[0].startswith("INSERT INTO provisionings "), writes[0]
    attempts = [s for s in starting if s.startswith("INSERT INTO provisioning_attempts ")]
    assert len(attempts) == 1, starting
    with committed() as session:
        row = session.scalars(select(Provisioning).where(Provisioning.order_id == order_id)).one()
        assert row.attempts == 1
        assert [a.number for a in provisioning_service.attempts_of(session, row)] == [1]


def test_recording_an_applied_bundle_writes_the_provisioning_row_once(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id, seen = _provisioned_by_a_job(committed, configure)
    recording = by_transaction(seen)[1]
    updates = [s for s in recording if s.startswith("UPDATE provisionings ")]
    assert len(updates) == 1, updates
    # The one UPDATE carries both the carrier's answer and the end of the provisioning.
    assert "carrier_status=" in updates[0], updates[0]
    assert "state=" in updates[0], updates[0]
    with committed() as session:
        row = session.scalars(select(Provisioning).where(Provisioning.order_id == order_id)).one()
        assert (row.carrier_status, row.state.value, row.completed_via) == (
            "applied",
            "completed",
            "response",
        )
        assert row.finished_at is not None
        assert row.next_job_id is None


def _provisioned_by_a_job(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> tuple[int, list[str]]:
    """A paid renewal provisioned by ``provisioning.apply`` against the carrier simulator:
    its order id, and the statements the job ran."""
    with committed() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order_id = create_paid_order(session, card=card, plan=plan).id
        session.commit()
    with (
        simulator_in_thread(SimulatorSettings()) as simulator,
        use_provider(RecordingSmsProvider()),
        statements_run() as seen,
    ):
        configure(carrier_url=simulator.url)
        tasks.apply(order_id=order_id)
    assert order_state(committed, order_id) == "completed"
    return order_id, seen
