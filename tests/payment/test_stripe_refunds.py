"""Stripe refunds that settle later: a `pending` answer leaves the order as it is, and the
signed refund webhooks decide, once. Stripe's HTTP layer is faked; nothing reaches the
network."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import STRIPE_WEBHOOK_SECRET, FakeStripeHttp, run_jobs, stripe_signed
from tests.payment.flow import order_state, seed, timeline, webhook_rows
from tulpar import clock
from tulpar.app import create_app
from tulpar.db import transaction
from tulpar.fulfilment import requery
from tulpar.fulfilment import tasks as fulfilment_tasks
from tulpar.integrations.payments import registry
from tulpar.integrations.payments.protocol import EventKind
from tulpar.integrations.payments.stripe import StripeProvider
from tulpar.models import InboxMessage, Refund, RefundState, Ticket
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.payment import service as payment_service


@dataclass
class SlowRefundsStripeHttp(FakeStripeHttp):
    """Stripe answering refunds with a status still to settle, like bank transfers do."""

    refund_status: str = "pending"
    down: bool = False

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        if self.down:
            raise stripe.APIConnectionError("connection refused")
        body, code, sent = super().request(method, url, headers, post_data, _usage=_usage)
        answer = json.loads(body)
        if answer.get("object") == "refund" and "payment_intent" not in answer:
            form = dict(_form(post_data))
            answer.update(
                status=self.refund_status,
                payment_intent=form["payment_intent"],
                metadata={"tulpar_key": form["metadata[tulpar_key]"]},
            )
            self.intents[answer["id"]] = answer
        return json.dumps(answer), code, sent


def _form(post_data: Any) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(post_data.decode() if isinstance(post_data, bytes) else str(post_data))


@pytest.fixture
def stripe_http() -> Iterator[SlowRefundsStripeHttp]:
    fake = SlowRefundsStripeHttp()
    provider = StripeProvider(
        api_key="sk_test_fake", webhook_secret=STRIPE_WEBHOOK_SECRET, http_client=fake
    )
    with registry.override("stripe", provider):
        yield fake


@pytest.fixture
def api(
    committed: sessionmaker[Session], stripe_http: SlowRefundsStripeHttp
) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _event(event_id: str, event_type: str, data_object: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": data_object},
    }


def _refund_object(stripe_http: SlowRefundsStripeHttp, **changes: Any) -> dict[str, Any]:
    (refund,) = [o for o in stripe_http.intents.values() if o["object"] == "refund"]
    return {**refund, **changes}


def _post(api: TestClient, event: dict[str, Any]) -> int:
    body, signed = stripe_signed(event)
    return int(api.post("/webhooks/stripe", content=body, headers=signed).status_code)


def _refund(factory: sessionmaker[Session]) -> Refund:
    with factory() as session:
        return session.scalars(select(Refund)).one()


def _tickets(factory: sessionmaker[Session]) -> list[tuple[str, int | None]]:
    with factory() as session:
        return [(t.kind.value, t.order_id) for t in session.scalars(select(Ticket))]


def _outcomes(factory: sessionmaker[Session]) -> list[str | None]:
    with factory() as session:
        return list(session.scalars(select(InboxMessage.outcome).order_by(InboxMessage.id)))


def _refund_requested(factory: sessionmaker[Session], api: TestClient) -> int:
    """A paid Stripe order whose provisioning failed, with its refund sent and answered.
    Returns the order id."""
    iccid, headers = seed(factory)
    order = api.post(
        "/v1/orders",
        json={"card": iccid, "plan": "P", "payment_provider": "stripe"},
        headers={**headers, "Idempotency-Key": "k"},
    ).json()
    paid = {"id": "pi_fake_1", "object": "payment_intent", "status": "succeeded"}
    assert (
        _post(api, _event("evt_paid", "payment_intent.succeeded", {**paid, "metadata": {}})) == 200
    )
    run_jobs(factory)
    with transaction(factory) as session:
        for move in (OrderMove.start_provisioning, OrderMove.fail_provisioning):
            assert order_service.move(
                session,
                order["id"],
                move,
                actor="test",
                reason="carrier refused",
            )
        assert payment_service.refund(session, order_id=order["id"], reason="carrier refused")
    run_jobs(factory)
    return int(order["id"])


@pytest.mark.parametrize("answer", ["pending", "requires_action"])
def test_an_unsettled_refund_answer_is_pending_and_the_order_is_not_refunded(
    committed: sessionmaker[Session],
    api: TestClient,
    stripe_http: SlowRefundsStripeHttp,
    answer: str,
) -> None:
    stripe_http.refund_status = answer

    order_id = _refund_requested(committed, api)

    refund = _refund(committed)
    assert (refund.state.value, refund.provider_reference) == ("pending", "re_fake_2")
    assert refund.completed_at is None
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _tickets(committed) == []
    sent = [h["idempotency-key"] for _, u, h in stripe_http.requests if u.endswith("/refunds")]
    assert sent == [refund.idempotency_key]
    assert run_jobs(committed) == []  # nothing sent twice


def test_a_succeeded_refund_webhook_refunds_the_order_once_under_replays(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    order_id = _refund_requested(committed, api)
    settled = _event("evt_r1", "refund.updated", _refund_object(stripe_http, status="succeeded"))
    charge = _event(
        "evt_r2",
        "charge.refunded",
        {
            "id": "ch_1",
            "object": "charge",
            "payment_intent": "pi_fake_1",
            "refunds": {"data": [_refund_object(stripe_http, status="succeeded")]},
        },
    )

    assert [_post(api, settled) for _ in range(3)] == [200, 200, 200]
    assert _post(api, charge) == 200  # the same news under another event id
    run_jobs(committed)

    refund = _refund(committed)
    assert (refund.state.value, refund.provider_reference) == ("succeeded", "re_fake_2")
    assert refund.completed_at is not None
    assert order_state(committed, order_id) == "refunded"
    assert [t for t in timeline(committed, order_id) if t[1] == "refunded"] == [
        ("provisioning_failed", "refunded")
    ]
    assert webhook_rows(committed) == 3  # the payment's event and two refund events
    assert _outcomes(committed)[1:] == [
        f"refund {refund.id} succeeded",
        f"refund {refund.id} already settled",
    ]
    assert _tickets(committed) == []


def test_a_failed_refund_webhook_opens_one_ticket_and_a_late_success_does_not_flip_it(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    order_id = _refund_requested(committed, api)
    failed = _refund_object(stripe_http, status="failed", failure_reason="lost_or_stolen_card")

    for event in (
        _event("evt_r1", "refund.failed", failed),
        _event("evt_r1", "refund.failed", failed),
        _event("evt_r2", "refund.updated", failed),
        _event("evt_r3", "refund.updated", _refund_object(stripe_http, status="succeeded")),
    ):
        assert _post(api, event) == 200
    run_jobs(committed)

    refund = _refund(committed)
    assert (refund.state.value, refund.failure_message) == ("failed", "lost_or_stolen_card")
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _tickets(committed) == [("refund_failed", order_id)]
    with committed() as session:
        subject = session.scalars(select(Ticket.subject)).one()
    assert subject == f"Order {order_id}: refund of 3,500 KZT failed (lost_or_stolen_card)"


def test_a_webhook_that_overtakes_the_answer_finds_the_refund_by_our_key(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    """The job's answer was lost (timeout after Stripe created the refund): the row has no
    Stripe id yet, but the refund's metadata echoes our key."""
    order_id = _refund_requested(committed, api)
    refund = _refund(committed)
    with transaction(committed) as session:
        row = session.get(Refund, refund.id)
        assert row is not None
        row.provider_reference = None
        row.state = RefundState.requested

    assert (
        _post(
            api, _event("evt_r1", "refund.updated", _refund_object(stripe_http, status="succeeded"))
        )
        == 200
    )
    run_jobs(committed)

    assert (_refund(committed).state.value, _refund(committed).provider_reference) == (
        "succeeded",
        "re_fake_2",
    )
    assert order_state(committed, order_id) == "refunded"


def test_a_refund_made_elsewhere_is_ignored(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    order_id = _refund_requested(committed, api)
    someone_elses = {"id": "re_dashboard", "object": "refund", "status": "succeeded"}

    assert _post(api, _event("evt_r1", "refund.updated", someone_elses)) == 200
    run_jobs(committed)

    assert _refund(committed).state.value == "pending"
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _outcomes(committed)[-1] == "ignored: no such refund"


@pytest.mark.parametrize("tamper", ["forged", "wrong_secret"])
def test_a_forged_refund_webhook_changes_nothing(
    committed: sessionmaker[Session],
    api: TestClient,
    stripe_http: SlowRefundsStripeHttp,
    tamper: str,
) -> None:
    import stripe

    order_id = _refund_requested(committed, api)
    rows_before = webhook_rows(committed)
    body, signed = stripe_signed(
        _event("evt_r1", "refund.updated", _refund_object(stripe_http, status="pending"))
    )
    if tamper == "forged":
        body = body.replace(b'"pending"', b'"succeeded"', 1)
    else:
        signed["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            body.decode(), "whsec_someone_else"
        )

    response = api.post("/webhooks/stripe", content=body, headers=signed)

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_rejected"
    assert webhook_rows(committed) == rows_before
    assert run_jobs(committed) == []
    assert _refund(committed).state.value == "pending"
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _tickets(committed) == []


@pytest.mark.parametrize(
    ("event_type", "data_object", "kind"),
    [
        ("refund.updated", {"id": "re_1", "status": "pending"}, EventKind.ignored),
        ("refund.updated", {"id": "re_1", "status": "canceled"}, EventKind.refund_failed),
        ("refund.failed", {"id": "re_1", "status": "failed"}, EventKind.refund_failed),
        ("charge.refunded", {"id": "ch_1", "object": "charge"}, EventKind.ignored),
    ],
)
def test_how_refund_events_are_read(
    event_type: str, data_object: dict[str, Any], kind: EventKind
) -> None:
    provider = StripeProvider(api_key="sk_test_fake", webhook_secret=STRIPE_WEBHOOK_SECRET)

    assert provider.interpret(_event("evt_1", event_type, data_object)).kind is kind


# Refunds whose webhook never comes: the re-query job asks Stripe where they stand.


def _refund_gets(stripe_http: SlowRefundsStripeHttp) -> int:
    return sum(
        1 for method, url, _ in stripe_http.requests if method == "GET" and "/refunds/" in url
    )


def _ask_refunds(factory: sessionmaker[Session], *, after: timedelta) -> dict[str, int]:
    return requery.run_refunds(
        now=clock.now() + after, quiet_for=fulfilment_tasks.REFUND_QUIET_FOR, factory=factory
    )


@pytest.mark.parametrize(
    ("settled_as", "refund_state", "order", "tickets"),
    [
        ("succeeded", "succeeded", "refunded", []),
        ("failed", "failed", "provisioning_failed", [("refund_failed", "order")]),
    ],
)
def test_a_pending_refund_without_webhook_is_asked_about_and_settles_once(
    committed: sessionmaker[Session],
    api: TestClient,
    stripe_http: SlowRefundsStripeHttp,
    settled_as: str,
    refund_state: str,
    order: str,
    tickets: list[tuple[str, str]],
) -> None:
    order_id = _refund_requested(committed, api)
    reference = _refund(committed).provider_reference
    assert reference is not None
    stripe_http.intents[reference]["status"] = settled_as

    assert _ask_refunds(committed, after=timedelta(minutes=16)) == {
        "refunds_asked": 1,
        "refunds_settled": 1,
        "refunds_unreachable": 0,
    }
    # Asked again later, and the webhook arriving after all: nothing moves twice.
    assert _ask_refunds(committed, after=timedelta(hours=3))["refunds_asked"] == 0
    late = _event("evt_late", "refund.updated", _refund_object(stripe_http, status="succeeded"))
    assert _post(api, late) == 200
    run_jobs(committed)

    assert _refund(committed).state.value == refund_state
    assert order_state(committed, order_id) == order
    expected = [(kind, order_id) for kind, _ in tickets]
    assert _tickets(committed) == expected
    assert _refund_gets(stripe_http) == 1


def test_a_refund_still_pending_is_noted_as_asked_and_left_alone_for_a_while(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    order_id = _refund_requested(committed, api)

    assert _ask_refunds(committed, after=timedelta(minutes=5))["refunds_asked"] == 0  # too soon
    assert _ask_refunds(committed, after=timedelta(minutes=16))["refunds_asked"] == 1
    checked = _refund(committed).checked_at
    assert _ask_refunds(committed, after=timedelta(minutes=20))["refunds_asked"] == 0

    refund = _refund(committed)
    assert (refund.state.value, refund.checked_at) == ("pending", checked)
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _tickets(committed) == []
    assert _refund_gets(stripe_http) == 1


def test_stripe_unreachable_while_asking_changes_nothing(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    order_id = _refund_requested(committed, api)
    reference = _refund(committed).provider_reference
    assert reference is not None
    stripe_http.intents[reference]["status"] = "succeeded"
    stripe_http.down = True

    counts = _ask_refunds(committed, after=timedelta(minutes=16))

    assert (counts["refunds_unreachable"], counts["refunds_settled"]) == (1, 0)
    assert _refund(committed).state.value == "pending"
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _tickets(committed) == []


def test_a_refund_pending_for_days_is_reported_to_support_once(
    committed: sessionmaker[Session], api: TestClient, stripe_http: SlowRefundsStripeHttp
) -> None:
    order_id = _refund_requested(committed, api)

    _ask_refunds(committed, after=timedelta(days=6))
    _ask_refunds(committed, after=timedelta(days=9))

    assert _tickets(committed) == [("refund_failed", order_id)]
    assert _refund(committed).state.value == "pending"  # still asked about; may yet settle
    assert order_state(committed, order_id) == "provisioning_failed"
    assert _refund_gets(stripe_http) == 2
