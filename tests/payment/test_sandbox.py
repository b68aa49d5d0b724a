"""The sandbox provider end to end over loopback HTTP: hosted pay page, signed webhooks
delivered by a job, the inbox, and the order moving exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import live_server, run_jobs
from tests.payment.flow import (
    click,
    count,
    order_state,
    pay_page,
    payment_states,
    place,
    provisioning_jobs,
    seed,
    timeline,
    webhook_rows,
)


@pytest.fixture
def server(committed: sessionmaker[Session], configure: Callable[..., None]) -> Iterator[str]:
    with live_server() as base:
        configure(sandbox_webhook_url=f"{base}/webhooks/sandbox")
        yield base


def test_pay_on_the_hosted_page_then_signed_webhooks_mark_the_order_paid_once(
    committed: sessionmaker[Session], server: str
) -> None:
    iccid, headers = seed(committed)
    order = place(server, headers, iccid)
    page = pay_page(server, order)

    shown = httpx.get(f"{server}{page}", timeout=10)
    assert shown.status_code == 200
    assert "3,500 KZT" in shown.text
    assert "52 CNY" in shown.text
    assert "7 USD" in shown.text
    click(server, page, "pay")
    click(server, page, "pay")  # a double click schedules nothing more

    ran = run_jobs(committed)

    assert ran.count("payment.deliver_sandbox_webhooks") == 1  # processing, then succeeded
    assert ran.count("inbox.handle") == 1  # "processing" settles nothing: stored handled
    assert order_state(committed, order["id"]) == "paid"
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert payment_states(committed, order["id"]) == ["succeeded"]
    assert provisioning_jobs(committed, order["id"]) == 1
    assert count(committed, "SELECT count(*) FROM sandbox_charges") == 1
    assert count(committed, "SELECT count(*) FROM inbox_messages WHERE handled_at IS NULL") == 0
    assert "已支付 Paid" in httpx.get(f"{server}{page}", timeout=10).text


def test_duplicated_and_reordered_deliveries_change_the_order_once(
    committed: sessionmaker[Session], server: str, configure: Callable[..., None]
) -> None:
    configure(
        sandbox_webhook_url=f"{server}/webhooks/sandbox",
        sandbox_webhook_duplicates=4,
        sandbox_webhook_reorder="true",
    )
    iccid, headers = seed(committed)
    order = place(server, headers, iccid)
    click(server, pay_page(server, order), "pay")

    ran = run_jobs(committed)

    assert ran.count("payment.deliver_sandbox_webhooks") == 5  # 5 copies of both events
    assert webhook_rows(committed) == 2  # stored once per event id
    assert ran.count("inbox.handle") == 1  # only the final word needs handling
    assert order_state(committed, order["id"]) == "paid"
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert provisioning_jobs(committed, order["id"]) == 1


def test_declined_then_paid_again_with_a_new_attempt(
    committed: sessionmaker[Session], server: str
) -> None:
    iccid, headers = seed(committed)
    order = place(server, headers, iccid)
    click(server, pay_page(server, order), "decline")
    run_jobs(committed)

    assert order_state(committed, order["id"]) == "payment_failed"
    assert provisioning_jobs(committed, order["id"]) == 0
    shown = httpx.get(f"{server}/v1/orders/{order['id']}", headers=headers, timeout=10).json()
    assert shown["payment"]["failure_code"] == "card_declined"

    again = httpx.post(
        f"{server}/v1/orders/{order['id']}/payments",
        json={"payment_provider": "sandbox"},
        headers={**headers, "Idempotency-Key": "retry-1"},
        timeout=10,
    )
    assert again.status_code == 201, again.text
    assert again.json()["state"] == "awaiting_payment"
    assert again.json()["payment"]["attempt"] == 2
    assert pay_page(server, again.json()) != pay_page(server, order)
    click(server, pay_page(server, again.json()), "pay")
    run_jobs(committed)

    assert order_state(committed, order["id"]) == "paid"
    assert payment_states(committed, order["id"]) == ["failed", "succeeded"]
    assert timeline(committed, order["id"]) == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "payment_failed"),
        ("payment_failed", "awaiting_payment"),
        ("awaiting_payment", "paid"),
    ]
    assert provisioning_jobs(committed, order["id"]) == 1


def test_a_paid_order_cannot_get_another_attempt(
    committed: sessionmaker[Session], server: str
) -> None:
    iccid, headers = seed(committed)
    order = place(server, headers, iccid)
    click(server, pay_page(server, order), "pay")
    run_jobs(committed)

    again = httpx.post(
        f"{server}/v1/orders/{order['id']}/payments",
        json={"payment_provider": "sandbox"},
        headers={**headers, "Idempotency-Key": "retry-1"},
        timeout=10,
    )

    assert again.status_code == 409
    assert again.json()["code"] == "order_not_payable"
    assert payment_states(committed, order["id"]) == ["succeeded"]
