"""Defect 3: one Stripe payment, with Stripe no longer configured, made every re-query fail
("Stripe is not configured" escaped the loop), so a paid sandbox order whose webhook was lost
was never recovered. Each item of a sweep now fails alone: logged, counted, the rest go on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from tests.fixtures.factories import create_card, create_plan
from tests.fixtures.payments import partner_headers
from tests.payment.flow import order_state
from tulpar import clock
from tulpar.db import transaction
from tulpar.fulfilment import requery
from tulpar.kit import sweep
from tulpar.models import CardState, Payment, PaymentProviderName
from tulpar.order import service as order_service


def _place(api: TestClient, headers: dict[str, str], iccid: str, key: str) -> Any:
    response = api.post(
        "/v1/orders", json={"card": iccid, "plan": "P"}, headers={**headers, "Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_payment_of_an_unconfigured_provider_does_not_stop_the_others(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    with committed() as session:
        first, second = (create_card(session, state=CardState.active) for _ in range(2))
        create_plan(session, code="P", prices_minor={"KZT": 3_500_00})
        headers = partner_headers(session)
        session.commit()
        stripe_iccid, sandbox_iccid = first.iccid, second.iccid
    # A Stripe payment from when Stripe was configured (its keys are gone now), asked first.
    stripe_order = _place(api, headers, stripe_iccid, "stripe")
    with transaction(committed) as session:
        session.execute(
            update(Payment)
            .where(Payment.order_id == stripe_order["id"])
            .values(provider=PaymentProviderName.stripe, provider_reference="pi_gone")
        )
    # A sandbox order paid on its page whose webhooks were lost: only re-query can save it.
    paid = _place(api, headers, sandbox_iccid, "sandbox")
    page = "/pay/sandbox/" + paid["payment"]["next_action"]["url"].rsplit("/", 1)[-1]
    assert api.post(page, data={"decision": "pay"}, follow_redirects=False).status_code == 303
    failures_before = sweep.ITEM_FAILURES.labels(sweep="payment.requery_stuck")._value.get()

    with capture_logs() as logs:
        counts = requery.run(now=clock.now() + timedelta(minutes=3), quiet_for=timedelta(minutes=2))

    assert counts == {"asked": 1, "started": 0, "unreachable": 0, "failed": 1}
    assert order_state(committed, paid["id"]) == "paid"
    assert order_state(committed, stripe_order["id"]) == "awaiting_payment"
    failed = [entry for entry in logs if entry["event"] == "sweep.item_failed"]
    assert len(failed) == 1
    assert failed[0]["sweep"] == "payment.requery_stuck"
    assert failed[0]["error"] == "ProviderNotConfiguredError"
    assert sweep.ITEM_FAILURES.labels(sweep="payment.requery_stuck")._value.get() == (
        failures_before + 1
    )
    with committed() as session:
        stuck = session.scalars(select(Payment).where(Payment.order_id == stripe_order["id"]))
        assert [payment.state.value for payment in stuck] == ["pending"]


def test_with_a_session_each_item_is_rolled_back_alone(session: Session) -> None:
    """The savepoint form, for sweeps that work in one transaction."""
    created: list[int] = []

    def one(n: int) -> None:
        card = create_card(session, state=CardState.active)
        session.flush()
        if n == 2:
            raise RuntimeError("this one is broken")
        created.append(card.id)

    with capture_logs() as logs:
        failed = sweep.for_each("test.sweep", [1, 2, 3], one, session=session)

    assert failed == 1
    assert len(created) == 2
    assert [entry["item"] for entry in logs if entry["event"] == "sweep.item_failed"] == ["2"]


def test_expiry_goes_on_past_an_order_that_fails(
    committed: sessionmaker[Session], api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed() as session:
        first, second = (create_card(session, state=CardState.active) for _ in range(2))
        create_plan(session, code="P", prices_minor={"KZT": 3_500_00})
        headers = partner_headers(session)
        session.commit()
        iccids = [first.iccid, second.iccid]
    broken, fine = (_place(api, headers, iccid, iccid)["id"] for iccid in iccids)
    real_move = order_service.move

    def move(session: Session, order_id: int, *args: Any, **kwargs: Any) -> Any:
        if order_id == broken:
            raise RuntimeError("a bug in one order")
        return real_move(session, order_id, *args, **kwargs)

    monkeypatch.setattr(order_service, "move", move)

    with capture_logs() as logs, transaction(committed) as session:
        expired = order_service.expire_abandoned(session, now=clock.now() + timedelta(hours=1))

    assert expired == 1
    assert order_state(committed, fine) == "expired"
    assert order_state(committed, broken) == "awaiting_payment"
    assert [e["item"] for e in logs if e["event"] == "sweep.item_failed"] == [f"order {broken}"]
