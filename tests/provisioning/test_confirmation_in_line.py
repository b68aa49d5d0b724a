"""The job that completes a renewal sends its confirmation SMS itself, right after its commit
(tulpar.notification.service.sending_in_line), instead of leaving it to wait in the job queue.
The SMS keeps a notification.send job, deferred later, for when that send fails or the job
dies in between; once sent in line, that job is gone."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.sms import RecordingSmsProvider
from tests.provisioning.conftest import create_paid_order, order_state
from tulpar import clock
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.fulfilment import provisioning, tasks
from tulpar.integrations.sms import SmsProviderError, use_provider
from tulpar.models import Notification, NotificationState
from tulpar.notification import service as notification_service
from tulpar.notification import tasks as notification_tasks
from tulpar.notification.service import IN_LINE_SAFETY_DELAY
from tulpar.provisioning import service as provisioning_service


def _paid_order(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        session.commit()
        return order.id


def _confirmation(factory: sessionmaker[Session]) -> Notification:
    with factory() as session:
        notifications = session.scalars(
            select(Notification).where(Notification.template == "renewal_confirmed")
        ).all()
        assert len(notifications) == 1
        return notifications[0]


def _send_jobs(factory: sessionmaker[Session]) -> list[tuple[int, str, float]]:
    """(notification id, status, seconds from now until it is due) of each send job."""
    with factory() as session:
        rows = session.execute(
            text(
                "SELECT (args->>'notification_id')::bigint, status::text,"
                " extract(epoch FROM scheduled_at - now())"
                " FROM procrastinate_jobs WHERE task_name = 'notification.send' ORDER BY id"
            )
        ).all()
    return [(int(r[0]), str(r[1]), float(r[2])) for r in rows]


def test_the_job_that_completes_a_renewal_sends_its_confirmation_at_once(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id = _paid_order(committed)
    provider = RecordingSmsProvider()
    with simulator_in_thread(SimulatorSettings()) as simulator, use_provider(provider):
        configure(carrier_url=simulator.url)
        tasks.apply(order_id=order_id)
        tasks.apply(order_id=order_id)  # a repeated job sends nothing more

    assert order_state(committed, order_id) == "completed"
    confirmation = _confirmation(committed)
    assert confirmation.state is NotificationState.sent
    assert [m.idempotency_key for m in provider.sent] == [f"notification-{confirmation.id}"]
    assert _send_jobs(committed) == []  # its waiting job was not needed


def test_a_confirmation_that_fails_in_line_is_sent_once_by_its_own_job(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id = _paid_order(committed)
    with simulator_in_thread(SimulatorSettings()) as simulator:
        configure(carrier_url=simulator.url)
        with use_provider(RecordingSmsProvider(fail_with=SmsProviderError("timeout"))):
            tasks.apply(order_id=order_id)  # the renewal is done even so

    assert order_state(committed, order_id) == "completed"
    confirmation = _confirmation(committed)
    assert (confirmation.state, confirmation.error) == (NotificationState.queued, "timeout")
    [(notification_id, status, due_in)] = _send_jobs(committed)
    assert (notification_id, status) == (confirmation.id, "todo")
    delay = IN_LINE_SAFETY_DELAY.total_seconds()
    assert delay - 10 < due_in <= delay

    provider = RecordingSmsProvider()
    with use_provider(provider):
        notification_tasks.deliver(committed, confirmation.id)  # what that job runs
    assert [m.idempotency_key for m in provider.sent] == [f"notification-{confirmation.id}"]
    assert _confirmation(committed).state is NotificationState.sent


def test_a_confirmation_the_provider_refuses_in_line_is_failed_and_needs_no_job(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id = _paid_order(committed)
    refusing = RecordingSmsProvider(fail_with=SmsProviderError("invalid number", permanent=True))
    with simulator_in_thread(SimulatorSettings()) as simulator, use_provider(refusing):
        configure(carrier_url=simulator.url)
        tasks.apply(order_id=order_id)

    assert order_state(committed, order_id) == "completed"
    confirmation = _confirmation(committed)
    assert (confirmation.state, confirmation.error) == (NotificationState.failed, "invalid number")
    assert refusing.calls == 1
    assert _send_jobs(committed) == []


def test_a_job_that_dies_before_sending_in_line_leaves_the_confirmation_to_its_job(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    order_id = _paid_order(committed)
    with simulator_in_thread(SimulatorSettings()) as simulator:
        configure(carrier_url=simulator.url)
        with committed() as session:
            planned = provisioning.begin(session, order_id, now=clock.now())
            session.commit()
        assert planned is not None
        answer, error = provisioning_service.call_carrier(planned)
        with committed() as session, notification_service.sending_in_line(session) as queued:
            provisioning.record_answer(
                session, planned, answer=answer, error=error, now=clock.now()
            )
            session.commit()
    # … and the process died here, before send_in_line(queued).
    assert len(queued) == 1
    confirmation = _confirmation(committed)
    assert confirmation.state is NotificationState.queued
    assert [(n, s) for n, s, _ in _send_jobs(committed)] == [(confirmation.id, "todo")]

    provider = RecordingSmsProvider()
    with use_provider(provider):
        notification_tasks.deliver(committed, confirmation.id)
    assert len(provider.sent) == 1
    assert _confirmation(committed).state is NotificationState.sent
