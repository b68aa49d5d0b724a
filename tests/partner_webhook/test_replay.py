"""Replaying an event from the back office: delivered again to the partner's receiver with the
same event id and body, signed as any delivery; only an admin may, once per pending replay,
audited; the delivery log reads each event by its newest delivery per endpoint."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.partner_webhook.conftest import (
    Receiver,
    events_of,
    order_in_provisioning,
    partner_caller,
    run_due,
    settle,
    subscribe,
)
from tests.staff.conftest import make_user
from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.db import transaction
from tulpar.errors import ForbiddenError
from tulpar.models import AuditEntry, PartnerWebhookDelivery, WebhookDeliveryState
from tulpar.partner_webhook import service, signing
from tulpar.provisioning.settlement import Settled

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
LATER = START + timedelta(hours=2)


@dataclass
class Sent:
    event_id: int
    public_id: str
    secret: str
    partner_id: int


def _completed_order_event(session: Session, receiver: Receiver, name: str = "Partner A") -> Sent:
    caller = partner_caller(session, name)
    secret = subscribe(session, caller, receiver.url).secret
    plan = create_plan(session)
    card, _ = create_active_card(session, plan=plan, partner_id=caller.partner_id)
    order = order_in_provisioning(session, card=card, plan=plan, partner_id=caller.partner_id)
    assert settle(session, order, Settled.completed) is Settled.completed
    session.commit()
    [event] = events_of(session, caller.partner_id or 0)
    return Sent(event.id, event.public_id, secret, caller.partner_id or 0)


def _staff(session: Session, role: str) -> Caller:
    return auth_service.staff(make_user(session, f"{role}-replay", role))


def _deliveries(session: Session, event_id: int) -> list[PartnerWebhookDelivery]:
    query = select(PartnerWebhookDelivery).where(PartnerWebhookDelivery.event_id == event_id)
    rows = list(session.scalars(query.order_by(PartnerWebhookDelivery.id)))
    for row in rows:
        session.refresh(row)
    return rows


def _replay_audit(session: Session) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == "webhooks.replay")
    return list(session.scalars(query.order_by(AuditEntry.id)))


def _deliver_jobs(session: Session) -> int:
    return int(
        session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs"
                " WHERE task_name = 'partner_webhook.deliver' AND status = 'todo'"
            )
        )
        or 0
    )


def test_a_delivered_event_replayed_is_delivered_again_with_the_same_id_and_signed(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    with clock.frozen(START):
        sent = _completed_order_event(session, receiver)
        assert run_due(session_factory, http) == 1
    admin = _staff(session, "admin")

    with clock.frozen(LATER):
        created = service.replay(session, admin, sent.event_id)
        session.commit()
        assert run_due(session_factory, http) == 1

    first, again = receiver.requests
    assert again.body == first.body
    assert json.loads(again.body)["id"] == sent.public_id
    assert again.headers["tulpar-event-id"] == sent.public_id
    assert again.headers["tulpar-delivery-attempt"] == "1"  # the new delivery's first
    event = signing.verify_event(
        sent.secret, again.headers["tulpar-signature"], again.body, now=LATER.timestamp()
    )
    assert event["id"] == sent.public_id
    original, replayed = _deliveries(session, sent.event_id)
    assert [d.id for d in created] == [replayed.id]
    assert (original.state, original.replayed_by) == (WebhookDeliveryState.delivered, None)
    assert (replayed.state, replayed.replayed_by) == (WebhookDeliveryState.delivered, admin.actor)
    assert replayed.delivered_at == LATER
    [entry] = _replay_audit(session)
    assert (entry.subject, entry.actor, entry.before) == (
        f"webhook_event:{sent.public_id}",
        admin.actor,
        {"deliveries": 1},
    )
    assert entry.after == {
        "deliveries": 2,
        "replayed": [{"delivery_id": replayed.id, "endpoint_id": replayed.endpoint_id}],
    }


def test_support_cannot_replay_and_nothing_changes(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    with clock.frozen(START):
        sent = _completed_order_event(session, receiver)
        assert run_due(session_factory, http) == 1
    support = _staff(session, "support")
    jobs_before = _deliver_jobs(session)

    with clock.frozen(LATER), pytest.raises(ForbiddenError):
        service.replay(session, support, sent.event_id)

    session.commit()
    assert [d.state for d in _deliveries(session, sent.event_id)] == [
        WebhookDeliveryState.delivered
    ]
    assert _replay_audit(session) == []
    assert _deliver_jobs(session) == jobs_before
    with clock.frozen(LATER):
        assert run_due(session_factory, http) == 0
    assert len(receiver.requests) == 1


def test_a_double_replay_makes_one_pending_delivery(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    with clock.frozen(START):
        sent = _completed_order_event(session, receiver)
        assert run_due(session_factory, http) == 1
    admin = _staff(session, "admin")

    with clock.frozen(LATER):
        first = service.replay(session, admin, sent.event_id)
        session.commit()
        second = service.replay(session, admin, sent.event_id)
        session.commit()

    assert (len(first), second) == (1, [])
    states = [d.state for d in _deliveries(session, sent.event_id)]
    assert states == [WebhookDeliveryState.delivered, WebhookDeliveryState.pending]
    assert len(_replay_audit(session)) == 1
    with clock.frozen(LATER):
        assert run_due(session_factory, http) == 1
    assert len(receiver.requests) == 2
    # Once that replay is through, another click replays again.
    with clock.frozen(LATER + timedelta(minutes=5)):
        assert len(service.replay(session, admin, sent.event_id)) == 1


def test_an_event_still_being_retried_gets_no_replay_beside_its_delivery(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    receiver.script = [500]
    with clock.frozen(START):
        sent = _completed_order_event(session, receiver)
        assert run_due(session_factory, http) == 1
    admin = _staff(session, "admin")

    with clock.frozen(START + timedelta(seconds=5)):
        assert service.replay(session, admin, sent.event_id) == []

    assert [d.state for d in _deliveries(session, sent.event_id)] == [WebhookDeliveryState.pending]
    assert _replay_audit(session) == []


def test_the_log_reads_a_failure_a_replay_delivered_as_delivered_and_filters_by_state(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    receiver.script = [500] * 30  # down for the whole retry window
    with clock.frozen(START):
        failed = _completed_order_event(session, receiver, "Partner A")
        run_due(session_factory, http)
    moment = START
    while moment < START + timedelta(days=4):
        moment += timedelta(hours=6)
        with clock.frozen(moment):
            run_due(session_factory, http)
    assert [d.state for d in _deliveries(session, failed.event_id)] == [WebhookDeliveryState.failed]
    receiver.script = []
    with clock.frozen(moment):
        other = _completed_order_event(session, receiver, "Partner B")
        run_due(session_factory, http)
    support, admin = _staff(session, "support"), _staff(session, "admin")

    def states(*, partner_id: int | None = None, state: str | None = None) -> list[tuple[str, str]]:
        page = service.delivery_log(session, support, partner_id=partner_id, state=state)
        return [(view.event.public_id, view.state) for view in page.events]

    assert states() == [(other.public_id, "delivered"), (failed.public_id, "failed")]
    assert states(state="failed") == [(failed.public_id, "failed")]
    assert states(partner_id=failed.partner_id) == [(failed.public_id, "failed")]

    with clock.frozen(moment):
        service.replay(session, admin, failed.event_id)
        session.commit()
        assert states(state="pending") == [(failed.public_id, "pending")]
        run_due(session_factory, http)

    assert states(state="delivered") == [
        (other.public_id, "delivered"),
        (failed.public_id, "delivered"),
    ]
    assert states(state="failed") == []
    first = service.delivery_log(session, support, limit=1)
    assert [view.event.id for view in first.events] == [other.event_id]
    assert first.older_than == other.event_id
    rest = service.delivery_log(session, support, limit=1, before_id=first.older_than)
    assert ([view.event.id for view in rest.events], rest.older_than) == ([failed.event_id], None)


def test_replaying_an_unknown_event_is_not_found(session: Session) -> None:
    admin = _staff(session, "admin")
    with pytest.raises(service.WebhookEventNotFoundError):
        service.replay(session, admin, 2**62)
    assert _replay_audit(session) == []


def _blocked_on_a_lock(factory: sessionmaker[Session], pid: int) -> bool:
    with factory() as session:
        waiting = session.scalar(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        )
    return bool(waiting)


def test_two_racing_replays_of_one_event_make_one_delivery(
    committed: sessionmaker[Session], receiver: Receiver, http: httpx.Client
) -> None:
    with clock.frozen(START):
        with transaction(committed) as session:
            sent = _completed_order_event(session, receiver)
        assert run_due(committed, http) == 1
        with transaction(committed) as session:
            admin = _staff(session, "admin")

        first = committed()
        assert len(service.replay(first, admin, sent.event_id)) == 1  # not committed yet
        second_pid: list[int] = []
        second_result: list[list[PartnerWebhookDelivery]] = []

        def second_click() -> None:
            with transaction(committed) as session:
                second_pid.append(int(session.scalar(text("SELECT pg_backend_pid()")) or 0))
                second_result.append(service.replay(session, admin, sent.event_id))

        racer = threading.Thread(target=second_click)
        racer.start()
        # The second click must reach its check while the first is still uncommitted: it
        # either waits on the event's lock, or (with no lock) has already finished.
        for _ in range(500):
            if second_result or (second_pid and _blocked_on_a_lock(committed, second_pid[0])):
                break
            time.sleep(0.01)
        first.commit()
        first.close()
        racer.join(timeout=30)

    assert second_result == [[]]
    with committed() as session:
        assert [d.state for d in _deliveries(session, sent.event_id)] == [
            WebhookDeliveryState.delivered,
            WebhookDeliveryState.pending,
        ]
        assert len(_replay_audit(session)) == 1
