"""Placing a renewal reads each row it needs once: the card and the plan are checked and
priced once (the promotion engine's pass is not repeated), and the answer is built from the
order and the payment attempt just written rather than read back."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.statements import statements_run
from tests.payment.flow import seed
from tulpar.app import create_app


@pytest.fixture
def api(committed: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _rows_read(statements: list[str]) -> Counter[str]:
    """Whole rows read, by table (``SELECT t.id, t.… FROM t``)."""
    read: Counter[str] = Counter()
    for statement in statements:
        found = re.match(r"SELECT (\w+)\.id, \1\.", statement)
        if found:
            read[found.group(1)] += 1
    return read


def test_placing_a_renewal_reads_its_card_plan_and_order_once(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    iccid, headers = seed(committed)
    with statements_run() as seen:
        placed = api.post(
            "/v1/orders",
            json={"card": iccid, "plan": "P"},
            headers={**headers, "Idempotency-Key": "once"},
        )

    assert placed.status_code == 201, placed.text
    answer = placed.json()
    assert answer["payment"]["next_action"]["url"]
    assert [p["id"] for p in answer["payments"]] == [answer["payment"]["id"]]
    assert (answer["iccid"], answer["plan"], answer["receipt"]) == (iccid, "P", None)
    read = _rows_read(seen)
    assert (read["cards"], read["plans"], read["orders"]) == (1, 1, 0), read
    assert not [s for s in seen if "FROM plan_prices" in s], seen  # read with the plan
    # The new attempt is the order's only one, as written: neither read back nor listed.
    assert read["payments"] == 0, read
    # Nor is an earlier attempt looked for, nor a receipt of an order not yet paid.
    assert not [s for s in seen if "max(payments.attempt)" in s or "FROM receipts" in s], seen
    assert not [s for s in seen if s.startswith("UPDATE payments SET state")], seen
