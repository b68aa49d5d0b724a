"""An order POST answers with the order's URL; a replay returns the first answer (as the
idempotency contract says) and the same URL, where the order can be read as it is now."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.payments import partner_headers, report_payment
from tulpar.integrations.payments.protocol import ProviderPayment, ProviderStatus


def test_a_replay_returns_the_first_answer_and_points_at_the_order_as_it_is_now(
    client: TestClient, session: Session
) -> None:
    card, _ = create_active_card(session, plan=create_plan(session, code="P"))
    headers = {**partner_headers(session), "Idempotency-Key": "same"}
    body = {"card": card.iccid, "plan": "P"}

    first = client.post("/v1/orders", json=body, headers=headers)
    report_payment(
        session,
        first.json()["payment"]["id"],
        ProviderPayment(reference="", status=ProviderStatus.succeeded),
    )
    replay = client.post("/v1/orders", json=body, headers=headers)
    now = client.get(replay.headers["location"], headers=headers)

    assert first.status_code == replay.status_code == 201
    assert first.headers["location"] == replay.headers["location"]
    assert first.headers["location"] == f"/v1/orders/{first.json()['id']}"
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.json()["state"] == "awaiting_payment"
    assert now.json()["state"] == "paid"


def test_the_api_docs_say_a_replay_is_the_first_answer(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/orders"]["post"]

    assert "replays that first response" in operation["description"]
    assert "Location" in operation["description"]
