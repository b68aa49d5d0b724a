"""Delivery to a real receiver on loopback: retried with backoff until it answers 2xx, then
exactly once; signed so the partner's verifier accepts it; given up after 3 days."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
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
from tulpar import clock
from tulpar.models import (
    PartnerWebhookAttempt,
    PartnerWebhookDelivery,
    WebhookDeliveryState,
)
from tulpar.partner_webhook import delivery, payloads, signing
from tulpar.provisioning.settlement import Settled

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def _completed_order_event(session: Session, receiver: Receiver) -> tuple[int, str, str]:
    caller = partner_caller(session, "Partner A")
    secret = subscribe(session, caller, receiver.url).secret
    plan = create_plan(session)
    card, _ = create_active_card(session, plan=plan, partner_id=caller.partner_id)
    order = order_in_provisioning(session, card=card, plan=plan, partner_id=caller.partner_id)
    assert settle(session, order, Settled.completed) is Settled.completed
    session.commit()
    [event] = events_of(session, caller.partner_id or 0)
    return event.id, event.public_id, secret


def test_a_receiver_failing_three_times_gets_the_event_exactly_once_after(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    receiver.script = [500, 503, 502]
    with clock.frozen(START):
        event_id, public_id, secret = _completed_order_event(session, receiver)
        assert run_due(session_factory, http) == 1  # first attempt, refused

    # The retry schedule is driven by the clock: nothing goes before its time.
    waits = [delivery.backoff(n) for n in (1, 2, 3)]
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    moment = START
    for wait in waits:
        with clock.frozen(moment + wait - timedelta(seconds=1)):
            assert run_due(session_factory, http) == 0
        moment += wait
        with clock.frozen(moment):
            assert run_due(session_factory, http) == 1
    with clock.frozen(moment + timedelta(days=4)):
        assert run_due(session_factory, http) == 0  # delivered: never again

    assert len(receiver.requests) == 4
    ids = {json.loads(request.body)["id"] for request in receiver.requests}
    assert ids == {public_id}
    accepted = receiver.requests[-1]
    event = signing.verify_event(
        secret,
        accepted.headers["tulpar-signature"],
        accepted.body,
        now=moment.timestamp(),
    )
    assert event["type"] == "order.completed"
    assert accepted.headers["tulpar-event-id"] == public_id
    assert [r.headers["tulpar-delivery-attempt"] for r in receiver.requests] == ["1", "2", "3", "4"]
    payloads.OrderCompleted.model_validate(event)  # the documented shape

    [sent] = session.scalars(
        select(PartnerWebhookDelivery).where(PartnerWebhookDelivery.event_id == event_id)
    ).all()
    session.refresh(sent)
    assert sent.state is WebhookDeliveryState.delivered
    assert sent.attempts == 4
    assert sent.next_attempt_at is None
    attempts = session.scalars(
        select(PartnerWebhookAttempt)
        .where(PartnerWebhookAttempt.delivery_id == sent.id)
        .order_by(PartnerWebhookAttempt.number)
    ).all()
    assert [a.status_code for a in attempts] == [500, 503, 502, 200]
    assert attempts[0].response_excerpt == "temporarily down, try later"
    assert attempts[-1].response_excerpt == '{"ok":true}'
    assert [a.next_attempt_at for a in attempts] == [
        START + timedelta(seconds=30),
        START + timedelta(seconds=90),
        START + timedelta(seconds=210),
        None,
    ]
    assert all(a.duration_ms >= 0 for a in attempts)


def test_a_signature_is_refused_with_the_wrong_secret_or_out_of_tolerance(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    with clock.frozen(START):
        _, _, secret = _completed_order_event(session, receiver)
        assert run_due(session_factory, http) == 1
    [request] = receiver.requests
    header = request.headers["tulpar-signature"]
    for wrong, now in (
        ("whsec_not_it", START.timestamp()),
        (secret, START.timestamp() + 301),
        (secret, START.timestamp() - 301),
    ):
        try:
            signing.verify_event(wrong, header, request.body, now=now)
        except signing.SignatureError:
            continue
        raise AssertionError(f"accepted with {wrong!r} at {now}")
    try:
        signing.verify_event(secret, header, request.body + b" ", now=START.timestamp())
    except signing.SignatureError:
        pass
    else:
        raise AssertionError("a changed body verified")
    assert signing.verify_event(secret, header, request.body, now=START.timestamp() + 300)


def test_an_unreachable_receiver_is_retried_for_three_days_then_given_up(
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    http: httpx.Client,
) -> None:
    with clock.frozen(START):
        event_id, _, _ = _completed_order_event(session, receiver)
    receiver.script = [500] * 1000
    moment = START
    attempts = 0
    while moment < START + timedelta(days=4):
        with clock.frozen(moment):
            attempts += run_due(session_factory, http)
        moment += timedelta(minutes=30)
    [sent] = session.scalars(
        select(PartnerWebhookDelivery).where(PartnerWebhookDelivery.event_id == event_id)
    ).all()
    session.refresh(sent)
    assert sent.state is WebhookDeliveryState.failed
    assert attempts == sent.attempts == len(receiver.requests)
    # 30 s doubling to 6 h apart, within 3 days of the first: 10 short ones, then 6-hourly.
    assert 18 <= attempts <= 22
    last = session.scalars(
        select(PartnerWebhookAttempt)
        .where(PartnerWebhookAttempt.delivery_id == sent.id)
        .order_by(PartnerWebhookAttempt.number.desc())
    ).first()
    assert last is not None
    assert last.started_at <= START + timedelta(days=3)
    assert last.next_attempt_at is None
