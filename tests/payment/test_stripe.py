"""Stripe: PaymentIntents created with our idempotency key through a faked HTTP layer,
webhooks verified by the official SDK, refunds. Nothing reaches the network."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import STRIPE_WEBHOOK_SECRET, FakeStripeHttp, run_jobs, stripe_signed
from tests.payment.flow import (
    order_state,
    payment_states,
    provisioning_jobs,
    seed,
    timeline,
    webhook_rows,
)
from tulpar.app import create_app
from tulpar.db import transaction
from tulpar.integrations.payments import registry
from tulpar.integrations.payments.stripe import StripeProvider
from tulpar.models import Payment, Refund
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.payment import service as payment_service


@pytest.fixture
def stripe_http() -> Iterator[FakeStripeHttp]:
    fake = FakeStripeHttp()
    provider = StripeProvider(
        api_key="sk_test_fake", webhook_secret=STRIPE_WEBHOOK_SECRET, http_client=fake
    )
    with registry.override("stripe", provider):
        yield fake


@pytest.fixture
def api(committed: sessionmaker[Session], stripe_http: FakeStripeHttp) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _place(api: TestClient, headers: dict[str, str], iccid: str, key: str = "k") -> Any:
    return api.post(
        "/v1/orders",
        json={"card": iccid, "plan": "P", "payment_provider": "stripe"},
        headers={**headers, "Idempotency-Key": key},
    )


def _intent_event(
    event_id: str, event_type: str, intent_id: str, key: str, **intent: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "status": "succeeded"
                if event_type.endswith("succeeded")
                else "requires_payment_method",
                "metadata": {"tulpar_key": key},
                **intent,
            }
        },
    }


def _only_payment(factory: sessionmaker[Session]) -> Payment:
    with factory() as session:
        return session.scalars(select(Payment)).one()


def test_an_order_creates_one_payment_intent_with_our_idempotency_key(
    committed: sessionmaker[Session], api: TestClient, stripe_http: FakeStripeHttp
) -> None:
    iccid, headers = seed(committed)

    first = _place(api, headers, iccid)
    replay = _place(api, headers, iccid)

    assert first.status_code == replay.status_code == 201, first.text
    assert replay.json() == first.json()
    payment = _only_payment(committed)
    assert first.json()["payment"]["next_action"] == {
        "type": "stripe_client_secret",
        "client_secret": "pi_fake_1_secret_x",
    }
    assert payment.provider_reference == "pi_fake_1"
    assert [
        (m, u.rsplit("/", 2)[-1], h["idempotency-key"]) for m, u, h in stripe_http.requests
    ] == [("POST", "payment_intents", payment.idempotency_key)]
    assert stripe_http.intents["pi_fake_1"]["amount"] == 3_500_00
    assert stripe_http.intents["pi_fake_1"]["currency"] == "kzt"


def test_a_verified_succeeded_event_pays_the_order(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid).json()
    payment = _only_payment(committed)
    body, signed = stripe_signed(
        _intent_event("evt_1", "payment_intent.succeeded", "pi_fake_1", payment.idempotency_key)
    )

    for _ in range(3):
        assert api.post("/webhooks/stripe", content=body, headers=signed).status_code == 200
    run_jobs(committed)

    assert webhook_rows(committed) == 1
    assert order_state(committed, order["id"]) == "paid"
    assert provisioning_jobs(committed, order["id"]) == 1


def test_a_failed_event_then_a_succeeded_one_for_the_same_intent(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    """Stripe lets the payer retry the same PaymentIntent after a decline."""
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid).json()
    key = _only_payment(committed).idempotency_key
    declined = {
        "last_payment_error": {
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        }
    }

    for event in (
        _intent_event("evt_1", "payment_intent.payment_failed", "pi_fake_1", key, **declined),
        _intent_event("evt_2", "payment_intent.succeeded", "pi_fake_1", key),
    ):
        body, signed = stripe_signed(event)
        assert api.post("/webhooks/stripe", content=body, headers=signed).status_code == 200
    run_jobs(committed)

    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "payment_failed"),
        ("payment_failed", "paid"),
    ]
    assert payment_states(committed, order["id"]) == ["succeeded"]
    assert provisioning_jobs(committed, order["id"]) == 1


@pytest.mark.parametrize("tamper", ["forged", "stale", "missing", "wrong_secret"])
def test_forged_and_stale_signatures_are_rejected_and_nothing_changes(
    committed: sessionmaker[Session], api: TestClient, tamper: str
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid).json()
    event = _intent_event(
        "evt_1", "payment_intent.succeeded", "pi_fake_1", _only_payment(committed).idempotency_key
    )
    body, signed = stripe_signed(event)
    if tamper == "forged":
        body = body.replace(b"pi_fake_1", b"pi_fake_9", 1)
    elif tamper == "stale":
        body, signed = stripe_signed(event, at=int(time.time()) - 301)
    elif tamper == "missing":
        del signed["Stripe-Signature"]
    else:
        import stripe

        signed["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            body.decode(), "whsec_someone_else"
        )

    response = api.post("/webhooks/stripe", content=body, headers=signed)

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_rejected"
    assert webhook_rows(committed) == 0
    assert run_jobs(committed) == []
    assert order_state(committed, order["id"]) == "awaiting_payment"
    assert payment_states(committed, order["id"]) == ["pending"]


def test_a_refund_goes_to_stripe_after_commit_with_its_own_key(
    committed: sessionmaker[Session], api: TestClient, stripe_http: FakeStripeHttp
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid).json()
    payment = _only_payment(committed)
    body, signed = stripe_signed(
        _intent_event("evt_1", "payment_intent.succeeded", "pi_fake_1", payment.idempotency_key)
    )
    api.post("/webhooks/stripe", content=body, headers=signed)
    run_jobs(committed)
    with transaction(committed) as session:
        for move in (OrderMove.start_provisioning, OrderMove.fail_provisioning):
            assert order_service.move(
                session,
                order["id"],
                move,
                actor="test",
                reason="carrier refused",
            )
        assert payment_service.refund(session, order_id=order["id"], reason="carrier refused")
        assert not payment_service.refund(session, order_id=order["id"], reason="again")
        assert stripe_http.requests[-1][1].endswith("/payment_intents")  # nothing sent yet

    run_jobs(committed)
    run_jobs(committed)

    refund_calls = [h for m, u, h in stripe_http.requests if u.endswith("/refunds")]
    with committed() as session:
        refund = session.scalars(select(Refund)).one()
    assert [h["idempotency-key"] for h in refund_calls] == [refund.idempotency_key]
    assert refund.state.value == "succeeded"
    assert refund.provider_reference is not None
    assert refund.provider_reference.startswith("re_fake")
    assert order_state(committed, order["id"]) == "refunded"
    assert timeline(committed, order["id"])[-1] == ("provisioning_failed", "refunded")
