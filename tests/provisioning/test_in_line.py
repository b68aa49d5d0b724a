"""A payment webhook's job provisions the renewal it pays itself (tulpar.fulfilment.paid).
When that job dies between committing the payment and recording the carrier's answer, its
retry — the stalled job given back (tulpar.job_recovery) — carries the renewal on at once,
rather than leaving it to the sweep of overdue provisionings minutes later."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import (
    create_paid_order,
    handled_by_running_job,
    order_state,
    run_as_job,
)
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.fulfilment import paid
from tulpar.fulfilment.tasks import handle_inbox_message


def test_the_retry_of_a_payment_job_that_died_mid_provisioning_completes_the_renewal(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        message_id, job_id = handled_by_running_job(session, external_id="evt_in_line")
        # The first run's transaction: the order paid, its provisioning started in-line.
        first_run = paid.InLineProvisioning(job_id)
        paid.on_paid(session, order, in_line=first_run)
        session.commit()
        order_id = order.id
    assert len(first_run.calls) == 1  # … and the process died before making that call
    assert order_state(committed, order_id) == "provisioning"

    with simulator_in_thread(SimulatorSettings()) as simulator:
        configure(carrier_url=simulator.url)
        run_as_job(job_id, lambda: handle_inbox_message(message_id=message_id))
        applications = dict(simulator.book.applications)

    assert order_state(committed, order_id) == "completed"
    assert applications == {f"order-{order_id}": 1}
    # A second retry finds nothing left to carry.
    run_as_job(job_id, lambda: handle_inbox_message(message_id=message_id))
    assert order_state(committed, order_id) == "completed"
