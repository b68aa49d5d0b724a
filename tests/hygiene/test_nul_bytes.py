"""Defect 6: a NUL byte anywhere in a request is refused as bad input (400/404, problem JSON or
the page in the user's language), never a plain-text 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan


def _orders(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM orders")).scalar_one())


def test_a_nul_in_an_order_plan_is_a_400_problem_and_nothing_is_written(
    client: TestClient, session: Session, partner_key: str
) -> None:
    card, _ = create_active_card(session, plan=create_plan(session))
    session.commit()

    response = client.post(
        "/v1/orders",
        json={"card": card.iccid, "plan": "KZ\u0000PLAN"},
        headers={"Authorization": f"Bearer {partner_key}", "Idempotency-Key": "nul-1"},
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_text"
    assert _orders(session) == 0


@pytest.mark.parametrize(
    "path", ["/pay/sandbox/abc%00", "/receipts/abc%00", "/receipts/abc%00.pdf", "/verify/abc%00"]
)
def test_a_nul_in_a_path_is_not_found(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/receipts/abc%00", "/verify/abc%00", "/pay/sandbox/abc%00"])
def test_a_browser_gets_the_not_found_page_in_its_language(client: TestClient, path: str) -> None:
    response = client.get(
        path, headers={"Accept": "text/html,application/xhtml+xml", "Accept-Language": "ru"}
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="ru"' in response.text


def test_a_nul_in_a_query_is_a_400_problem(client: TestClient) -> None:
    response = client.get("/v1/plans?channel=web%00")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_text"
