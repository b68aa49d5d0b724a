"""After an order is placed: reading it, expiring it when abandoned, paying late, and
completing a wallet top-up."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card, create_plan
from tests.fixtures.payments import jobs, partner_headers, report_payment, traveller_headers
from tulpar import clock
from tulpar.app import create_app
from tulpar.integrations.payments.protocol import ProviderPayment, ProviderStatus
from tulpar.models import (
    CardState,
    IdempotencyKey,
    LedgerEntry,
    Notification,
    OrderEvent,
    Payment,
    Receipt,
    Wallet,
)
from tulpar.order import service as order_service


def _place(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    response = client.post("/v1/orders", json=body, headers={**headers, "Idempotency-Key": "k"})
    assert response.status_code == 201, response.text
    return response.json()


def _succeed(session: Session, payment_id: int) -> str:
    return report_payment(
        session, payment_id, ProviderPayment(reference="", status=ProviderStatus.succeeded)
    )


class TestReadingAnOrder:
    def test_only_the_partner_that_placed_it_or_the_cards_traveller_may_read_it(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        other_card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        owner = partner_headers(session, "Owner")
        order = _place(client, owner, card=card.iccid, plan="P")

        assert client.get(f"/v1/orders/{order['id']}", headers=owner).status_code == 200
        traveller = client.get(
            f"/v1/orders/{order['id']}", headers=traveller_headers(session, card)
        )
        assert traveller.status_code == 200
        assert traveller.json()["timeline"] == order["timeline"]
        for stranger in (partner_headers(session, "Other"), traveller_headers(session, other_card)):
            response = client.get(f"/v1/orders/{order['id']}", headers=stranger)
            assert response.status_code == 404
            assert response.json()["code"] == "order_not_found"
        assert client.get("/v1/orders/999999", headers=owner).status_code == 404


class TestAbandonedOrders:
    def test_an_unpaid_order_expires_after_30_minutes(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        order = _place(client, partner_headers(session), card=card.iccid, plan="P")
        placed_at = clock.now()

        early = order_service.expire_abandoned(session, now=placed_at + timedelta(minutes=29))
        late = order_service.expire_abandoned(session, now=placed_at + timedelta(minutes=31))
        again = order_service.expire_abandoned(session, now=placed_at + timedelta(minutes=32))

        assert (early, late, again) == (0, 1, 0)
        assert order_service.get(session, order["id"]).state.value == "expired"
        event = session.scalars(select(OrderEvent).order_by(OrderEvent.id.desc())).first()
        assert event is not None
        assert (event.from_state, event.to_state, event.actor) == (
            "awaiting_payment",
            "expired",
            "system:order.expire_abandoned",
        )

    def test_an_expired_order_cannot_get_a_new_attempt_but_late_money_is_honoured(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        headers = partner_headers(session)
        order = _place(client, headers, card=card.iccid, plan="P")
        order_service.expire_abandoned(session, now=clock.now() + timedelta(minutes=31))

        refused = client.post(
            f"/v1/orders/{order['id']}/payments",
            json={"payment_provider": "sandbox"},
            headers={**headers, "Idempotency-Key": "again"},
        )
        outcome = _succeed(session, order["payment"]["id"])

        assert refused.status_code == 409
        assert refused.json()["code"] == "order_not_payable"
        assert outcome == "order paid"
        assert order_service.get(session, order["id"]).state.value == "paid"
        assert jobs(session, "provisioning.apply") == [{"order_id": order["id"]}]

    def test_a_new_attempt_after_a_decline_gets_a_full_payment_window(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        headers = partner_headers(session)
        order = _place(client, headers, card=card.iccid, plan="P")
        with clock.frozen(frozen_now + timedelta(minutes=25)):
            report_payment(
                session,
                order["payment"]["id"],
                ProviderPayment(reference="", status=ProviderStatus.failed),
            )
            again = client.post(
                f"/v1/orders/{order['id']}/payments",
                json={"payment_provider": "sandbox"},
                headers={**headers, "Idempotency-Key": "again"},
            )

        expired = order_service.expire_abandoned(session, now=frozen_now + timedelta(minutes=31))

        assert again.status_code == 201
        assert again.json()["payable_until"] == "2026-11-24T06:55:00Z"
        assert expired == 0
        assert order_service.expire_abandoned(session, now=frozen_now + timedelta(minutes=56)) == 1


class TestWalletTopUp:
    def test_a_paid_top_up_credits_the_wallet_sends_the_sms_and_issues_the_receipt(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.active, language="ru")
        session.execute(update(Wallet).where(Wallet.card_id == card.id).values(balance_minor=1_00))
        order = _place(
            client,
            partner_headers(session),
            card=card.iccid,
            kind="wallet_topup",
            amount_minor=5_000_00,
        )
        assert order["amount"] == {"amount_minor": 5_000_00, "currency": "KZT"}
        assert order["plan"] is None

        assert _succeed(session, order["payment"]["id"]) == "order paid"
        assert _succeed(session, order["payment"]["id"]) == "already succeeded"

        shown = client.get(f"/v1/orders/{order['id']}", headers=partner_headers(session, "B"))
        assert shown.status_code == 404  # another partner
        assert order_service.get(session, order["id"]).state.value == "completed"
        assert [
            (e.from_state, e.to_state) for e in order_service.timeline(session, order["id"])
        ] == [
            (None, "awaiting_payment"),
            ("awaiting_payment", "paid"),
            ("paid", "completed"),
        ]
        wallet = session.get(Wallet, card.id, populate_existing=True)
        assert wallet is not None
        assert wallet.balance_minor == 5_001_00
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.card_id == card.id)).all()
        assert [(e.delta, e.balance_before, e.cause.value) for e in entries] == [
            (5_000_00, 1_00, "order")
        ]
        sms = session.scalars(
            select(Notification).where(Notification.template == "topup_confirmed")
        ).all()
        assert len(sms) == 1
        assert sms[0].dedupe_key == f"order:{order['id']}:topup_confirmed"
        receipts = session.scalars(select(Receipt).where(Receipt.order_id == order["id"])).all()
        assert [(r.issuer, r.total_minor, r.payment_method) for r in receipts] == [
            ("API", 5_000_00, "sandbox")
        ]
        assert jobs(session, "provisioning.apply") == []
        payment = session.get(Payment, order["payment"]["id"])
        assert payment is not None
        assert payment.state.value == "succeeded"


def test_an_order_id_out_of_range_is_a_422_not_a_500(client: TestClient, session: Session) -> None:
    response = client.get(f"/v1/orders/{2**63}", headers=partner_headers(session))

    assert response.status_code == 422


def test_the_periodic_job_expires_orders_and_forgets_old_idempotency_keys(
    committed: sessionmaker[Session],
) -> None:
    from tulpar.db import transaction
    from tulpar.order.tasks import expire_abandoned

    with TestClient(create_app()) as api, transaction(committed) as session:
        card = create_card(session, state=CardState.active)
        create_plan(session, code="P")
        headers = partner_headers(session)
        session.commit()
        order = _place(api, headers, card=card.iccid, plan="P")

    with clock.frozen(clock.now() + timedelta(minutes=31)):
        expire_abandoned(timestamp=0)
    with committed() as session:
        assert order_service.get(session, order["id"]).state.value == "expired"
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1

    with clock.frozen(clock.now() + timedelta(hours=24, minutes=1)):
        expire_abandoned(timestamp=0)
    with committed() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
