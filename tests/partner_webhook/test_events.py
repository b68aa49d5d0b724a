"""Events: written with the order move (a rolled-back move leaves none), only for the
partner that owns the order, sent in order per card; endpoints and secret rotation through
the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.partner_webhook.conftest import (
    Receiver,
    event_count,
    events_of,
    order_in_provisioning,
    partner_caller,
    run_due,
    settle,
    subscribe,
)
from tulpar import clock
from tulpar.models import PartnerWebhookDelivery, PartnerWebhookEndpoint
from tulpar.partner import service as partner_service
from tulpar.partner_webhook import endpoints, signing
from tulpar.provisioning.settlement import Settled

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _jobs(session: Session) -> int:
    return int(
        session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE 'partner_webhook.%'")
        )
        or 0
    )


def test_a_rolled_back_order_move_records_no_event(session: Session, receiver: Receiver) -> None:
    caller = partner_caller(session, "Partner A")
    subscribe(session, caller, receiver.url)
    plan = create_plan(session)
    card, _ = create_active_card(session, plan=plan, partner_id=caller.partner_id)
    order = order_in_provisioning(session, card=card, plan=plan, partner_id=caller.partner_id)
    jobs_before = _jobs(session)
    savepoint = session.begin_nested()
    assert settle(session, order, Settled.completed) is Settled.completed
    assert event_count(session) == 1  # written by the move's transaction…
    savepoint.rollback()
    assert event_count(session) == 0  # …and gone with it, its dispatch job too
    assert _jobs(session) == jobs_before


def test_partner_b_never_gets_partner_a_events(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    a = partner_caller(session, "Partner A")
    b = partner_caller(session, "Partner B")
    a_endpoint = subscribe(session, a, receiver.url).endpoint
    b_endpoint = subscribe(session, b, receiver.url + "?for=b").endpoint
    plan = create_plan(session)
    card, _ = create_active_card(session, plan=plan, partner_id=a.partner_id)
    with clock.frozen(START):
        order = order_in_provisioning(session, card=card, plan=plan, partner_id=a.partner_id)
        settle(session, order, Settled.failed)
        session.commit()
        assert run_due(session_factory, http) == 1
    assert [e.type for e in events_of(session, a.partner_id or 0)] == ["order.provisioning_failed"]
    assert events_of(session, b.partner_id or 0) == []
    endpoints_sent_to = session.scalars(select(PartnerWebhookDelivery.endpoint_id)).all()
    assert endpoints_sent_to == [a_endpoint.id]
    assert b_endpoint.id not in endpoints_sent_to


def test_a_card_events_are_sent_in_order_even_when_the_first_is_retried(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    caller = partner_caller(session, "Partner A")
    subscribe(session, caller, receiver.url)
    plan = create_plan(session)
    card, _ = create_active_card(session, plan=plan, partner_id=caller.partner_id)
    receiver.script = [500]
    with clock.frozen(START):
        for _ in range(2):
            order = order_in_provisioning(
                session, card=card, plan=plan, partner_id=caller.partner_id
            )
            settle(session, order, Settled.completed)
        session.commit()
        first, second = (e.public_id for e in events_of(session, caller.partner_id or 0))
        assert run_due(session_factory, http) == 1  # the first refused: the second waits
    with clock.frozen(START + timedelta(seconds=30)):
        assert run_due(session_factory, http) == 2
    assert [json.loads(r.body)["id"] for r in receiver.requests] == [first, first, second]


def test_endpoints_and_secret_rotation_through_the_api(
    session: Session, client: TestClient, receiver: Receiver
) -> None:
    _, key = partner_service.create_key(session, "Partner A", scopes=["partner"])
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    created = client.post(
        "/v1/webhook-endpoints",
        json={"url": receiver.url, "event_types": ["order.completed"]},
        headers={**headers, "Idempotency-Key": "e1"},
    )
    assert created.status_code == 201, created.text
    endpoint_id, old_secret = created.json()["id"], created.json()["secret"]
    listed = client.get("/v1/webhook-endpoints", headers=headers).json()["data"]
    assert [e["id"] for e in listed] == [endpoint_id]
    assert "secret" not in listed[0]

    rotated = client.post(
        f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        json={"grace_hours": 24},
        headers={**headers, "Idempotency-Key": "r1"},
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret
    row = session.get(PartnerWebhookEndpoint, endpoint_id)
    assert row is not None
    session.refresh(row)
    now = clock.now()
    live = endpoints.signing_secrets(row, now=now)
    assert live == [new_secret, old_secret]
    header = signing.sign(live, b"{}", timestamp=int(now.timestamp()))
    for secret in (new_secret, old_secret):  # either verifies during the grace period
        signing.verify_event(secret, header, b"{}", now=now.timestamp())
    assert endpoints.signing_secrets(row, now=now + timedelta(hours=25)) == [new_secret]

    gone = client.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=headers)
    assert gone.status_code == 204
    assert client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=headers).status_code == 404


def test_a_plain_http_url_to_another_host_is_refused_and_nothing_written(
    session: Session, client: TestClient
) -> None:
    _, key = partner_service.create_key(session, "Partner A", scopes=["partner"])
    session.commit()
    answer = client.post(
        "/v1/webhook-endpoints",
        json={"url": "http://partner.example/hooks"},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "e1"},
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "webhook_url_invalid"
    count = session.scalar(select(func.count()).select_from(PartnerWebhookEndpoint))
    assert count == 0
