from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan, make_iccid
from tests.fixtures.statements import statements_run
from tulpar.kit.format import GB
from tulpar.models import Channel

pytestmark = pytest.mark.embedded_smoke


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    # No worker runs in this test: the database and migrations are fine, the worker is named.
    # A ready answer with a live worker: tests/resilience/test_readiness.py.
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["worker"]


def test_openapi_is_published(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/plans" in paths
    assert "/v1/cards/{card}/balance" in paths


def test_plans_lists_prices_and_explicit_unlimited(client: TestClient, session: Session) -> None:
    create_plan(session, code="KZ-T-UNL", data_bytes=None, prices_minor={"KZT": 14_900_00})
    create_plan(session, code="KZ-T-STORE", channels=(Channel.store,))
    session.commit()

    plans = {p["code"]: p for p in client.get("/v1/plans").json()["data"]}
    assert plans["KZ-T-UNL"]["allowances"]["data_unlimited"] is True
    assert plans["KZ-T-UNL"]["allowances"]["data_bytes"] is None
    assert plans["KZ-T-UNL"]["prices"] == [{"amount_minor": 1490000, "currency": "KZT"}]

    web_only = client.get("/v1/plans", params={"channel": "web"}).json()["data"]
    assert "KZ-T-STORE" not in [p["code"] for p in web_only]


def test_balance_by_iccid_and_by_phone_number(
    client: TestClient, session: Session, partner_key: str
) -> None:
    card, _ = create_active_card(session, msisdn="+77015550101")
    session.commit()

    by_iccid = client.get(f"/v1/cards/{card.iccid}/balance", headers=_auth(partner_key))
    by_phone = client.get("/v1/cards/8 701 555 0101/balance", headers=_auth(partner_key))

    assert by_iccid.status_code == 200
    assert by_iccid.json() == by_phone.json()
    body = by_iccid.json()
    assert body["state"] == "active"
    assert body["data_bytes"] == {"unlimited": False, "remaining": 5 * GB, "granted": 5 * GB}
    assert body["validity_ends_at_local"].endswith("+05:00")
    assert body["wallet"] == {"amount_minor": 0, "currency": "KZT"}


def test_unknown_card_and_bad_keys_reveal_nothing(
    client: TestClient, session: Session, partner_key: str, carrier_key: str
) -> None:
    card, _ = create_active_card(session)
    session.commit()
    unknown = make_iccid(777_777)

    missing = client.get(f"/v1/cards/{unknown}/balance", headers=_auth(partner_key))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "card_not_found"

    for headers in (
        {},
        _auth("tlp_nope_nope"),
        _auth(partner_key + "x"),
        {"Authorization": "Basic x"},
    ):
        for target in (card.iccid, unknown):
            answer = client.get(f"/v1/cards/{target}/balance", headers=headers)
            assert answer.status_code == 401
            assert answer.json()["code"] == "unauthorized"
            assert answer.json()["detail"] == "Missing or invalid credentials"

    wrong_scope = client.get(f"/v1/cards/{card.iccid}/balance", headers=_auth(carrier_key))
    assert wrong_scope.status_code == 403


@pytest.mark.parametrize(
    ("reference", "code"),
    [("8999701000000000016", "invalid_iccid"), ("12345", "invalid_card"), ("abc", "invalid_card")],
)
def test_malformed_card_numbers_get_a_clear_problem(
    client: TestClient, partner_key: str, reference: str, code: str
) -> None:
    answer = client.get(f"/v1/cards/{reference}/balance", headers=_auth(partner_key))
    assert answer.status_code == 422
    assert answer.json()["code"] == code


def test_an_unknown_path_is_a_problem_too(client: TestClient) -> None:
    answer = client.get("/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_plans_and_their_prices_are_read_in_one_statement(
    client: TestClient, session: Session
) -> None:
    create_plan(session, code="KZ-T-A", prices_minor={"KZT": 3_500_00, "CNY": 52_00})
    create_plan(session, code="KZ-T-B", prices_minor={"KZT": 5_900_00})
    session.commit()
    with statements_run() as seen:
        plans = {p["code"]: p for p in client.get("/v1/plans").json()["data"]}

    assert [price["currency"] for price in plans["KZ-T-A"]["prices"]] == ["CNY", "KZT"]
    assert [price["currency"] for price in plans["KZ-T-B"]["prices"]] == ["KZT"]
    assert len([s for s in seen if "FROM plan" in s]) == 1, seen
