from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _record(iccid: str, record_id: str, quantity: object = 1_000) -> dict[str, object]:
    return {
        "source": "msc1",
        "record_id": record_id,
        "card": iccid,
        "kind": "data",
        "quantity": quantity,
        "occurred_at": "2026-11-24T10:00:00+05:00",
    }


def _stored(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM usage_records")).scalar_one())


def test_a_carrier_posts_a_batch_and_gets_an_answer_per_record(
    client: TestClient, session: Session, carrier_key: str, frozen_now: datetime
) -> None:
    card, bundle = create_active_card(
        session, plan=create_plan(session, data_bytes=5_000), days_ago=1
    )
    session.commit()
    body = {
        "records": [
            _record(card.iccid, "1"),
            _record(card.iccid, "1"),
            _record(card.iccid, "2", quantity="lots"),
            _record(card.iccid, "3", quantity=2_000),
        ]
    }

    response = client.post("/v1/usage-records", json=body, headers=_auth(carrier_key))

    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (2, 1, 1)
    assert [(r["index"], r["record_id"], r["status"], r["code"]) for r in answer["results"]] == [
        (0, "1", "accepted", None),
        (1, "1", "duplicate", None),
        (2, "2", "rejected", "invalid_quantity"),
        (3, "3", "accepted", None),
    ]
    session.refresh(bundle)
    assert bundle.data_bytes_remaining == 2_000

    again = client.post("/v1/usage-records", json=body, headers=_auth(carrier_key)).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 1)
    session.refresh(bundle)
    assert bundle.data_bytes_remaining == 2_000


def test_a_partner_key_cannot_post_usage(
    client: TestClient, session: Session, partner_key: str, frozen_now: datetime
) -> None:
    card, _ = create_active_card(session)
    session.commit()
    body = {"records": [_record(card.iccid, "1")]}

    forbidden = client.post("/v1/usage-records", json=body, headers=_auth(partner_key))
    anonymous = client.post("/v1/usage-records", json=body)

    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    assert _stored(session) == 0


def test_an_empty_or_oversized_batch_is_refused_whole(
    client: TestClient, session: Session, carrier_key: str, frozen_now: datetime
) -> None:
    card, _ = create_active_card(session)
    session.commit()

    empty = client.post("/v1/usage-records", json={"records": []}, headers=_auth(carrier_key))
    too_many = client.post(
        "/v1/usage-records",
        json={"records": [_record(card.iccid, str(n)) for n in range(10_001)]},
        headers=_auth(carrier_key),
    )

    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_request")
    assert (too_many.status_code, too_many.json()["code"]) == (422, "invalid_request")
    assert _stored(session) == 0


def test_a_record_that_is_not_an_object_is_rejected_alone(
    client: TestClient, session: Session, carrier_key: str, frozen_now: datetime
) -> None:
    card, _ = create_active_card(session, days_ago=1)
    session.commit()

    response = client.post(
        "/v1/usage-records",
        json={"records": [_record(card.iccid, "1"), {"nonsense": True}]},
        headers=_auth(carrier_key),
    )

    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected"]


def test_the_balance_shows_usage_as_of(
    client: TestClient, session: Session, carrier_key: str, frozen_now: datetime
) -> None:
    from tulpar.partner import service as partner_service

    reseller, partner = partner_service.create_key(session, "Reseller", scopes=["partner"])
    card, _ = create_active_card(session, days_ago=1, partner_id=reseller.id)  # it sold the card
    session.commit()
    client.post(
        "/v1/usage-records",
        json={"records": [_record(card.iccid, "1")]},
        headers=_auth(carrier_key),
    )

    balance = client.get(f"/v1/cards/{card.iccid}/balance", headers=_auth(partner)).json()

    assert balance["usage_as_of"] == "2026-11-24T05:00:00Z"


def test_the_usage_endpoint_is_in_the_openapi_document(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/usage-records"]["post"]
    assert operation["tags"] == ["usage"]


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    client: TestClient, session: Session, carrier_key: str, frozen_now: datetime
) -> None:
    card, _ = create_active_card(session, days_ago=1)
    session.commit()
    headers = {**_auth(carrier_key), "Idempotency-Key": "batch-0001"}
    body = {"records": [_record(card.iccid, "1")]}

    first = client.post("/v1/usage-records", json=body, headers=headers)
    replay = client.post("/v1/usage-records", json=body, headers=headers)
    other = client.post(
        "/v1/usage-records", json={"records": [_record(card.iccid, "2")]}, headers=headers
    )

    assert first.json()["accepted"] == 1
    assert replay.json() == first.json()
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert _stored(session) == 1
