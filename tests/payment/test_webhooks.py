"""The webhook inbox: stored first, replays and duplicates change nothing twice, events out
of order are resolved by payment attempt, bad signatures are refused with nothing stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import run_jobs, sandbox_signed
from tests.payment.flow import (
    order_state,
    payment_states,
    provisioning_jobs,
    seed,
    timeline,
    webhook_rows,
)
from tulpar import clock
from tulpar.app import create_app
from tulpar.models import InboxMessage, Payment, Refund, SandboxCharge


@pytest.fixture
def api(committed: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _place(api: TestClient, headers: dict[str, str], iccid: str, key: str = "k") -> dict[str, Any]:
    response = api.post(
        "/v1/orders", json={"card": iccid, "plan": "P"}, headers={**headers, "Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _payment(factory: sessionmaker[Session], payment_id: int) -> Payment:
    with factory() as session:
        payment = session.scalars(select(Payment).where(Payment.id == payment_id)).one()
        return payment


def _event(event_id: str, event_type: str, payment: Payment, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "reference": payment.provider_reference,
            "key": payment.idempotency_key,
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            **extra,
        },
    }


def _click(api: TestClient, payment: Payment, decision: str) -> None:
    page = f"/pay/sandbox/{payment.provider_reference}"
    assert api.post(page, data={"decision": decision}, follow_redirects=False).status_code == 303


def _send(api: TestClient, event: dict[str, Any], **options: Any) -> Any:
    body, headers = sandbox_signed(event, **options)
    return api.post("/webhooks/sandbox", content=body, headers=headers)


def test_a_webhook_replayed_5_times_makes_one_transition(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])
    succeeded = _event("evt_1", "payment.succeeded", payment)

    answers = [_send(api, succeeded) for _ in range(5)]
    run_jobs(committed)

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]
    assert webhook_rows(committed) == 1
    assert order_state(committed, order["id"]) == "paid"
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert provisioning_jobs(committed, order["id"]) == 1


@pytest.mark.parametrize("event_type", ["payment.processing", "charge.dispute.created"])
def test_news_that_settles_nothing_is_stored_handled_and_queues_no_job(
    committed: sessionmaker[Session], api: TestClient, event_type: str
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])
    before = run_jobs(committed)

    answers = [_send(api, _event("evt_news", event_type, payment)) for _ in range(2)]

    assert [a.json()["duplicate"] for a in answers] == [False, True]
    with committed() as session:
        messages = session.execute(
            select(InboxMessage.kind, InboxMessage.outcome, InboxMessage.handled_at)
        ).all()
        jobs = session.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'inbox.handle'")
        ).scalar_one()
    assert [(kind, outcome) for kind, outcome, _ in messages] == [
        (event_type, f"ignored: {event_type}")
    ]
    assert messages[0].handled_at is not None
    assert jobs == 0
    assert run_jobs(committed) == before == []
    unchanged = _payment(committed, payment.id)
    assert (unchanged.state, unchanged.checked_at) == (payment.state, payment.checked_at)
    assert timeline(committed, order["id"]) == [(None, "awaiting_payment")]


def test_the_same_news_under_new_event_ids_still_moves_the_order_once(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])

    for number in range(5):
        assert _send(api, _event(f"evt_{number}", "payment.succeeded", payment)).status_code == 200
    run_jobs(committed)

    assert webhook_rows(committed) == 5
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert provisioning_jobs(committed, order["id"]) == 1


def test_a_late_failure_after_success_is_ignored(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])

    _send(api, _event("evt_ok", "payment.succeeded", payment))
    _send(api, _event("evt_late", "payment.failed", payment, failure_code="card_declined"))
    _send(api, _event("evt_early", "payment.processing", payment))
    run_jobs(committed)

    assert order_state(committed, order["id"]) == "paid"
    assert payment_states(committed, order["id"]) == ["succeeded"]
    assert provisioning_jobs(committed, order["id"]) == 1


def test_success_of_the_new_attempt_before_the_failure_of_the_old_one(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    first = _payment(committed, order["payment"]["id"])
    # The payer gives up on the first page and starts again before any news arrives.
    again = api.post(
        f"/v1/orders/{order['id']}/payments",
        json={"payment_provider": "sandbox"},
        headers={**headers, "Idempotency-Key": "again"},
    )
    assert again.status_code == 201, again.text
    second = _payment(committed, again.json()["payment"]["id"])

    _send(api, _event("evt_2_ok", "payment.succeeded", second))
    _send(api, _event("evt_1_failed", "payment.failed", first, failure_code="expired_card"))
    run_jobs(committed)

    assert order_state(committed, order["id"]) == "paid"
    assert payment_states(committed, order["id"]) == ["canceled", "succeeded"]
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert provisioning_jobs(committed, order["id"]) == 1


def test_a_second_attempt_that_also_succeeds_is_refunded_not_applied(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    first = _payment(committed, order["payment"]["id"])
    # The payer pays, sees nothing happen (the webhooks are slow), starts a new attempt and
    # pays again: two charges for one order.
    _click(api, first, "pay")
    again = api.post(
        f"/v1/orders/{order['id']}/payments",
        json={"payment_provider": "sandbox"},
        headers={**headers, "Idempotency-Key": "again"},
    )
    second = _payment(committed, again.json()["payment"]["id"])
    _click(api, second, "pay")

    _send(api, _event("evt_2_ok", "payment.succeeded", second))
    _send(api, _event("evt_1_ok", "payment.succeeded", first))
    ran = run_jobs(committed, names=("inbox.handle", "payment.refund"))

    assert ran == ["inbox.handle", "inbox.handle", "payment.refund"]
    assert order_state(committed, order["id"]) == "paid"
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert payment_states(committed, order["id"]) == ["succeeded", "succeeded"]
    assert provisioning_jobs(committed, order["id"]) == 1
    with committed() as session:
        refunds = session.scalars(select(Refund)).all()
        assert [(r.payment_id, r.state.value, r.amount_minor) for r in refunds] == [
            (first.id, "succeeded", 3_500_00)
        ]
        charges = session.scalars(select(SandboxCharge).order_by(SandboxCharge.decided_at)).all()
        refunded = {c.reference: c.refunded_at is not None for c in charges}
        assert refunded == {first.provider_reference: True, second.provider_reference: False}


@pytest.mark.parametrize(
    "tamper",
    ["forged", "stale", "missing", "body_changed"],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(
    committed: sessionmaker[Session], api: TestClient, tamper: str
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])
    event = _event("evt_1", "payment.succeeded", payment)
    body, signed = sandbox_signed(event)
    if tamper == "forged":
        signed["Sandbox-Signature"] = signed["Sandbox-Signature"][:-4] + "beef"
    elif tamper == "stale":
        body, signed = sandbox_signed(event, at=int(clock.now().timestamp()) - 301)
    elif tamper == "missing":
        del signed["Sandbox-Signature"]
    else:
        body = body.replace(b"payment.succeeded", b"payment.failed")

    response = api.post("/webhooks/sandbox", content=body, headers=signed)

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_rejected"
    assert webhook_rows(committed) == 0
    assert run_jobs(committed) == []
    assert order_state(committed, order["id"]) == "awaiting_payment"


def test_a_signature_within_300_seconds_is_accepted(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])

    response = _send(
        api,
        _event("evt_1", "payment.succeeded", payment),
        at=int(clock.now().timestamp()) - 290,
    )

    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'{"type": "payment.succeeded"}'])
def test_a_well_signed_body_that_is_no_event_is_refused_not_a_500(
    committed: sessionmaker[Session], api: TestClient, body: bytes
) -> None:
    from tests.fixtures.payments import SANDBOX_SECRET
    from tulpar.integrations import signature as signing

    header = signing.sign(SANDBOX_SECRET, body, timestamp=int(clock.now().timestamp()))

    response = api.post("/webhooks/sandbox", content=body, headers={"Sandbox-Signature": header})

    assert response.status_code == 400
    assert webhook_rows(committed) == 0


def test_five_workers_handling_the_same_news_at_once_move_the_order_once(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tulpar.fulfilment.tasks import handle_inbox_message

    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    payment = _payment(committed, order["payment"]["id"])
    for number in range(5):
        _send(api, _event(f"evt_{number}", "payment.succeeded", payment))
    start = Barrier(5)

    def handle(webhook_event_id: int) -> None:
        start.wait()
        handle_inbox_message(message_id=webhook_event_id)

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(handle, range(1, 6)))

    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert provisioning_jobs(committed, order["id"]) == 1
    with committed() as session:
        outcomes = sorted(
            str(outcome) for outcome in session.scalars(select(InboxMessage.outcome)).all()
        )
    assert outcomes == ["already succeeded"] * 4 + ["order paid"]
