"""Defect 4: an order for a provider that cannot take payment (Stripe without its keys) was
committed and answered 503, and its retry with the same Idempotency-Key answered 201 for an
order that can never be paid. Now it is refused (422 problem JSON) before anything is
written, the same key is refused again, and only providers that can take payment are named."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.payment.flow import seed
from tests.payment_safety.conftest import snapshot
from tulpar.app import create_app


def test_a_stripe_order_without_stripe_is_refused_before_anything_is_written(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    before = snapshot(committed)
    request = {"card": iccid, "plan": "P", "payment_provider": "stripe"}

    first = api.post("/v1/orders", json=request, headers={**headers, "Idempotency-Key": "s"})
    retry = api.post("/v1/orders", json=request, headers={**headers, "Idempotency-Key": "s"})

    for response in (first, retry):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "payment_provider_unavailable"
        assert problem["available"] == ["wallet", "sandbox"]
    assert snapshot(committed) == before
    # The same key then works for a provider that can take payment (nothing was stored).
    sandbox = api.post(
        "/v1/orders",
        json={**request, "payment_provider": "sandbox"},
        headers={**headers, "Idempotency-Key": "s"},
    )
    assert sandbox.status_code == 201, sandbox.text


def test_a_new_attempt_with_stripe_is_refused_too(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    placed = api.post(
        "/v1/orders", json={"card": iccid, "plan": "P"}, headers={**headers, "Idempotency-Key": "a"}
    )
    assert placed.status_code == 201, placed.text
    before = snapshot(committed)

    again = api.post(
        f"/v1/orders/{placed.json()['id']}/payments",
        json={"payment_provider": "stripe"},
        headers={**headers, "Idempotency-Key": "b"},
    )

    assert again.status_code == 422, again.text
    assert snapshot(committed) == before


def test_in_production_without_stripe_an_order_naming_no_provider_is_refused(
    committed: sessionmaker[Session], production: Callable[..., None]
) -> None:
    """The default provider: the sandbox outside production (as above), none in production
    until Stripe is configured; the wallet still pays."""
    iccid, headers = seed(committed)
    production()
    before = snapshot(committed)
    with TestClient(create_app()) as live:
        refused = live.post(
            "/v1/orders",
            json={"card": iccid, "plan": "P"},
            headers={**headers, "Idempotency-Key": "d"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["available"] == ["wallet"]
        assert snapshot(committed) == before

        production(stripe_api_key="sk_test_x", stripe_webhook_secret="whsec_x")
        problem = live.post(
            "/v1/orders",
            json={"card": iccid, "plan": "P", "payment_provider": "sandbox"},
            headers={**headers, "Idempotency-Key": "e"},
        ).json()
        assert problem["available"] == ["wallet", "stripe"]
    assert snapshot(committed) == before
