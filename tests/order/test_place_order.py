"""POST /v1/orders: who may order what, at which frozen price, and every refusal leaves
nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.fixtures.payments import jobs, partner_headers, traveller_headers
from tulpar.models import (
    CardState,
    Channel,
    IdempotencyKey,
    LedgerEntry,
    Order,
    OrderEvent,
    Payment,
    PlanPrice,
    Wallet,
)


def _post(client: TestClient, headers: dict[str, str], key: str, **body: Any) -> Any:
    return client.post("/v1/orders", json=body, headers={**headers, "Idempotency-Key": key})


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _nothing_written(session: Session) -> None:
    assert _count(session, Order) == 0
    assert _count(session, OrderEvent) == 0
    assert _count(session, Payment) == 0
    assert _count(session, IdempotencyKey) == 0
    assert jobs(session, "provisioning.apply") == []


class TestPlacingARenewal:
    def test_a_partner_order_freezes_the_plan_price_and_offers_the_sandbox_pay_page(
        self, client: TestClient, session: Session
    ) -> None:
        card, _ = create_active_card(session)
        plan = create_plan(session, code="KZ-7D-5GB", prices_minor={"KZT": 2_900_00, "CNY": 43_00})
        headers = partner_headers(session)

        response = _post(client, headers, "k-1", card=card.iccid, plan="kz-7d-5gb")

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["state"] == "awaiting_payment"
        assert body["kind"] == "plan_renewal"
        assert body["channel"] == "api"
        assert body["plan"] == "KZ-7D-5GB"
        assert body["iccid"] == card.iccid
        assert body["amount"] == {"amount_minor": 2_900_00, "currency": "KZT"}
        payment = body["payment"]
        assert payment["provider"] == "sandbox"
        assert payment["state"] == "pending"
        assert payment["amount"] == {"amount_minor": 2_900_00, "currency": "KZT"}
        assert payment["next_action"]["type"] == "redirect_to_url"
        assert payment["next_action"]["url"].startswith("http://127.0.0.1:8000/pay/sandbox/sbx_")
        assert [(e["from_state"], e["to_state"], e["actor"]) for e in body["timeline"]] == [
            (None, "awaiting_payment", "partner:Partner A")
        ]
        order = session.get(Order, body["id"])
        assert order is not None
        assert order.plan_id == plan.id

        # The price is frozen: a later catalog change does not touch the order.
        session.execute(
            update(PlanPrice)
            .where(PlanPrice.plan_id == plan.id, PlanPrice.currency == "KZT")
            .values(amount_minor=9_999_00)
        )
        again = client.get(f"/v1/orders/{body['id']}", headers=headers)
        assert again.json()["amount"] == {"amount_minor": 2_900_00, "currency": "KZT"}

    def test_a_price_in_another_currency_of_the_plan(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="CNY-PLAN", prices_minor={"KZT": 3_500_00, "CNY": 52_00})

        response = _post(
            client, partner_headers(session), "k", card=card.iccid, plan="CNY-PLAN", currency="cny"
        )

        assert response.status_code == 201
        assert response.json()["amount"] == {"amount_minor": 52_00, "currency": "CNY"}

    def test_a_traveller_orders_for_their_own_card_on_the_web_channel(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="WEB-ONLY", channels=(Channel.web,))

        response = _post(
            client, traveller_headers(session, card), "t-1", card=card.msisdn, plan="WEB-ONLY"
        )

        assert response.status_code == 201, response.text
        assert response.json()["channel"] == "web"
        assert response.json()["timeline"][0]["actor"] == "traveller"

    def test_a_traveller_cannot_order_for_another_card(
        self, client: TestClient, session: Session
    ) -> None:
        mine = create_card(session, state=CardState.active)
        theirs = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        headers = traveller_headers(session, mine)

        response = _post(client, headers, "t-1", card=theirs.iccid, plan="P")

        assert response.status_code == 404
        assert response.json()["code"] == "card_not_found"
        _nothing_written(session)

    def test_without_credentials_it_is_401(self, client: TestClient, session: Session) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")

        response = client.post(
            "/v1/orders", json={"card": card.iccid, "plan": "P"}, headers={"Idempotency-Key": "x"}
        )

        assert response.status_code == 401
        _nothing_written(session)


class TestRefusals:
    @pytest.mark.parametrize(
        ("card_state", "status", "code"),
        [
            (CardState.terminated, 409, "card_terminated"),
            (CardState.suspended, 409, "card_suspended"),
        ],
    )
    def test_a_card_that_cannot_be_renewed(
        self, client: TestClient, session: Session, card_state: CardState, status: int, code: str
    ) -> None:
        card = create_card(session, state=card_state)
        create_plan(session, code="P")

        response = _post(client, partner_headers(session), "k", card=card.iccid, plan="P")

        assert response.status_code == status
        assert response.json()["code"] == code
        _nothing_written(session)

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"plan": "WEB-ONLY"}, 422, "plan_not_on_channel"),
            ({"plan": "P", "currency": "USD"}, 422, "currency_not_offered"),
            ({"plan": "P", "currency": "EUR"}, 422, "currency_not_offered"),
            ({"plan": "NO-SUCH-PLAN"}, 404, "plan_not_found"),
            ({"plan": "P", "promo_code": "WELCOME10"}, 422, "promo_code_unknown"),
            ({}, 422, "invalid_input"),
            ({"plan": "P", "amount_minor": 100}, 422, "invalid_input"),
            ({"plan": "P", "payment_provider": "cash"}, 422, "invalid_request"),
            ({"kind": "wallet_topup", "amount_minor": 50_00}, 422, "invalid_input"),
            (
                {"kind": "wallet_topup", "amount_minor": 5_000_00, "currency": "CNY"},
                422,
                "currency_not_offered",
            ),
            (
                {"kind": "wallet_topup", "amount_minor": 5_000_00, "payment_provider": "wallet"},
                422,
                "payment_method_not_allowed",
            ),
        ],
    )
    def test_a_clear_reason_and_nothing_written(
        self,
        client: TestClient,
        session: Session,
        body: dict[str, Any],
        status: int,
        code: str,
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P", prices_minor={"KZT": 3_500_00, "CNY": 52_00})
        create_plan(session, code="WEB-ONLY", channels=(Channel.web, Channel.ussd))

        response = _post(client, partner_headers(session), "k", card=card.iccid, **body)

        assert response.status_code == status, response.text
        assert response.json()["code"] == code
        _nothing_written(session)

    def test_an_unknown_card_is_404(self, client: TestClient, session: Session) -> None:
        create_plan(session, code="P")

        response = _post(client, partner_headers(session), "k", card="+77019999999", plan="P")

        assert response.status_code == 404
        assert response.json()["code"] == "card_not_found"
        _nothing_written(session)

    def test_an_idempotency_key_is_required(self, client: TestClient, session: Session) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")

        response = client.post(
            "/v1/orders", json={"card": card.iccid, "plan": "P"}, headers=partner_headers(session)
        )

        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_required"
        _nothing_written(session)


class TestIdempotency:
    def test_the_same_key_and_body_replays_the_first_response(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        headers = partner_headers(session)

        first = _post(client, headers, "same", card=card.iccid, plan="P")
        second = _post(client, headers, "same", card=card.iccid, plan="P")

        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert _count(session, Order) == 1
        assert _count(session, Payment) == 1

    def test_the_same_key_with_another_body_is_409_and_changes_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        create_plan(session, code="Q")
        headers = partner_headers(session)
        first = _post(client, headers, "same", card=card.iccid, plan="P")

        second = _post(client, headers, "same", card=card.iccid, plan="Q")

        assert second.status_code == 409
        assert second.json()["code"] == "idempotency_key_reused"
        assert _count(session, Order) == 1
        assert client.get(f"/v1/orders/{first.json()['id']}", headers=headers).json()["plan"] == "P"

    def test_keys_belong_to_one_caller(self, client: TestClient, session: Session) -> None:
        create_plan(session, code="P")
        card_of_a = create_card(session, state=CardState.active)
        headers_a = partner_headers(session, "A")
        card_of_b = create_card(session, state=CardState.active)
        headers_b = partner_headers(session, "B")

        one = _post(client, headers_a, "k", card=card_of_a.iccid, plan="P")
        two = _post(client, headers_b, "k", card=card_of_b.iccid, plan="P")

        assert one.status_code == two.status_code == 201
        assert one.json()["id"] != two.json()["id"]

    def test_keys_are_kept_at_least_24_hours(self, client: TestClient, session: Session) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        _post(client, partner_headers(session), "k", card=card.iccid, plan="P")

        kept = session.execute(
            text("SELECT expires_at - created_at FROM idempotency_keys")
        ).scalar()

        assert kept is not None
        assert kept.total_seconds() >= 24 * 3600


class TestPayingFromTheWallet:
    def test_debit_and_paid_in_one_transaction_with_provisioning_queued(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P", prices_minor={"KZT": 3_500_00})
        session.execute(
            update(Wallet).where(Wallet.card_id == card.id).values(balance_minor=5_000_00)
        )

        response = _post(
            client,
            partner_headers(session),
            "w",
            card=card.iccid,
            plan="P",
            payment_provider="wallet",
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["state"] == "paid"
        assert body["payment"]["state"] == "succeeded"
        assert [e["to_state"] for e in body["timeline"]] == ["awaiting_payment", "paid"]
        wallet = session.get(Wallet, card.id, populate_existing=True)
        assert wallet is not None
        assert wallet.balance_minor == 1_500_00
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.card_id == card.id)).all()
        assert [(e.delta, e.balance_before, e.order_id) for e in entries] == [
            (-3_500_00, 5_000_00, body["id"])
        ]
        assert jobs(session, "provisioning.apply") == [{"order_id": body["id"]}]

    def test_insufficient_funds_is_refused_and_nothing_changes(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P", prices_minor={"KZT": 3_500_00})
        session.execute(
            update(Wallet).where(Wallet.card_id == card.id).values(balance_minor=3_499_99)
        )

        response = _post(
            client,
            partner_headers(session),
            "w",
            card=card.iccid,
            plan="P",
            payment_provider="wallet",
        )

        assert response.status_code == 409
        assert response.json()["code"] == "insufficient_funds"
        _nothing_written(session)
        wallet = session.get(Wallet, card.id, populate_existing=True)
        assert wallet is not None
        assert wallet.balance_minor == 3_499_99
        assert _count(session, LedgerEntry) == 0
