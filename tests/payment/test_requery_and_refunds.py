"""Payments stuck in an unknown state are asked about again; refunds of every provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import STRIPE_WEBHOOK_SECRET, FakeStripeHttp, run_jobs
from tests.payment.flow import order_state, payment_states, provisioning_jobs, seed, timeline
from tulpar import clock
from tulpar.app import create_app
from tulpar.db import transaction
from tulpar.fulfilment import requery
from tulpar.integrations.payments import registry
from tulpar.integrations.payments.stripe import StripeProvider
from tulpar.models import LedgerEntry, Payment, Refund, SandboxCharge, Wallet
from tulpar.order import service as order_service
from tulpar.order.moves import OrderMove
from tulpar.payment import service as payment_service


@pytest.fixture
def api(committed: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _place(api: TestClient, headers: dict[str, str], iccid: str, **extra: Any) -> Any:
    response = api.post(
        "/v1/orders",
        json={"card": iccid, "plan": "P", **extra},
        headers={**headers, "Idempotency-Key": "k"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _fail_over(order_id: int, factory: sessionmaker[Session]) -> None:
    """What provisioning does when the carrier refuses for good."""
    with transaction(factory) as session:
        order_service.move(
            session,
            order_id,
            OrderMove.start_provisioning,
            actor="test",
            reason="start",
        )
        order_service.move(
            session,
            order_id,
            OrderMove.fail_provisioning,
            actor="test",
            reason="number recycled",
        )
        assert payment_service.refund(session, order_id=order_id, reason="number recycled")


class TestRequery:
    def test_a_sandbox_payment_whose_webhooks_never_came_is_found_paid(
        self, committed: sessionmaker[Session], api: TestClient
    ) -> None:
        iccid, headers = seed(committed)
        order = _place(api, headers, iccid)
        page = "/pay/sandbox/" + order["payment"]["next_action"]["url"].rsplit("/", 1)[-1]
        api.post(page, data={"decision": "pay"}, follow_redirects=False)
        # The webhook deliveries are lost: only the schedule notices.

        too_early = requery.run(now=clock.now(), quiet_for=timedelta(minutes=2))
        later = requery.run(now=clock.now() + timedelta(minutes=3), quiet_for=timedelta(minutes=2))
        again = requery.run(now=clock.now() + timedelta(minutes=3), quiet_for=timedelta(minutes=2))

        assert too_early == {"asked": 0, "started": 0, "unreachable": 0}
        assert later == {"asked": 1, "started": 0, "unreachable": 0}
        assert again == {"asked": 0, "started": 0, "unreachable": 0}
        assert order_state(committed, order["id"]) == "paid"
        assert provisioning_jobs(committed, order["id"]) == 1

    def test_an_old_abandoned_checkout_is_asked_about_less_and_less_often(
        self, committed: sessionmaker[Session], api: TestClient
    ) -> None:
        iccid, headers = seed(committed)
        _place(api, headers, iccid)
        now = clock.now()

        def ask_after(created_hours_ago: float, checked_hours_ago: float) -> int:
            with transaction(committed) as session:
                session.execute(
                    update(Payment).values(
                        created_at=now - timedelta(hours=created_hours_ago),
                        checked_at=now - timedelta(hours=checked_hours_ago),
                    )
                )
            counts = requery.run(now=now, quiet_for=timedelta(minutes=2))
            return counts["asked"]

        assert ask_after(0.1, 0.05) == 1  # young: every 2 minutes
        assert ask_after(10, 1) == 0  # 10 h old: not before 2.5 h of quiet
        assert ask_after(10, 3) == 1
        assert ask_after(25, 10) == 0  # given up after a day
        assert payment_states(committed, 1) == ["pending"]

    def test_a_stripe_intent_whose_creation_failed_is_created_later_with_the_same_key(
        self, committed: sessionmaker[Session], api: TestClient
    ) -> None:
        iccid, headers = seed(committed)
        fake = FakeStripeHttp()
        provider = StripeProvider(
            api_key="sk_test_fake", webhook_secret=STRIPE_WEBHOOK_SECRET, http_client=fake
        )
        broken = FakeStripeHttp()
        broken.request = _raise_connection_error  # type: ignore[method-assign]
        with registry.override(
            "stripe",
            StripeProvider(api_key="sk_test_fake", webhook_secret="x", http_client=broken),
        ):
            order = _place(api, headers, iccid, payment_provider="stripe")

        assert order["payment"]["next_action"] is None
        assert order["state"] == "awaiting_payment"
        with registry.override("stripe", provider):
            counts = requery.run(
                now=clock.now() + timedelta(minutes=3), quiet_for=timedelta(minutes=2)
            )
            shown = api.get(f"/v1/orders/{order['id']}", headers=headers).json()

        assert counts == {"asked": 0, "started": 1, "unreachable": 0}
        with committed() as session:
            payment = session.scalars(select(Payment)).one()
        assert [h["idempotency-key"] for _, _, h in fake.requests] == [payment.idempotency_key]
        assert shown["payment"]["next_action"]["client_secret"] == "pi_fake_1_secret_x"


def _raise_connection_error(*args: Any, **kwargs: Any) -> Any:
    import stripe

    raise stripe.APIConnectionError("connection refused")


class TestRefunds:
    def test_a_sandbox_refund_after_provisioning_failed(
        self, committed: sessionmaker[Session], api: TestClient
    ) -> None:
        iccid, headers = seed(committed)
        order = _place(api, headers, iccid)
        reference = order["payment"]["next_action"]["url"].rsplit("/", 1)[-1]
        api.post(f"/pay/sandbox/{reference}", data={"decision": "pay"}, follow_redirects=False)
        requery.run(now=clock.now() + timedelta(minutes=3), quiet_for=timedelta(minutes=2))
        _fail_over(order["id"], committed)

        ran = run_jobs(committed, names=("payment.refund",))

        assert ran == ["payment.refund"]
        assert order_state(committed, order["id"]) == "refunded"
        assert timeline(committed, order["id"])[-1] == ("provisioning_failed", "refunded")
        with committed() as session:
            charge = session.get(SandboxCharge, reference)
            refund = session.scalars(select(Refund)).one()
        assert charge is not None
        assert charge.refunded_at is not None
        assert (refund.state.value, refund.amount_minor, refund.currency) == (
            "succeeded",
            3_500_00,
            "KZT",
        )
        # Asked later, the sandbox tells the same; a refund it never made, not succeeded.
        sandbox = registry.provider_for("sandbox")
        assert refund.provider_reference is not None
        assert sandbox.get_refund(refund.provider_reference).succeeded is True
        assert sandbox.get_refund("sbx_re_" + "0" * 32).succeeded is False
        assert sandbox.get_refund(reference).succeeded is False  # a charge, not a refund

    def test_a_wallet_refund_credits_the_wallet_back_once(
        self, committed: sessionmaker[Session], api: TestClient
    ) -> None:
        iccid, headers = seed(committed)
        with transaction(committed) as session:
            session.execute(update(Wallet).values(balance_minor=4_000_00))
        order = _place(api, headers, iccid, payment_provider="wallet")
        assert order["state"] == "paid"
        _fail_over(order["id"], committed)

        run_jobs(committed, names=("payment.refund",))
        with transaction(committed) as session:
            assert not payment_service.refund(session, order_id=order["id"], reason="again")

        with committed() as session:
            wallet = session.scalars(select(Wallet)).one()
            entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        assert wallet.balance_minor == 4_000_00
        assert [(e.delta, e.cause.value) for e in entries] == [
            (-3_500_00, "order"),
            (3_500_00, "refund"),
        ]
        assert order_state(committed, order["id"]) == "refunded"
        assert payment_states(committed, order["id"]) == ["succeeded"]

    def test_nothing_to_refund_for_an_unpaid_order(
        self, committed: sessionmaker[Session], api: TestClient
    ) -> None:
        iccid, headers = seed(committed)
        order = _place(api, headers, iccid)

        with transaction(committed) as session:
            assert not payment_service.refund(session, order_id=order["id"], reason="why")

        assert run_jobs(committed) == []
        assert order_state(committed, order["id"]) == "awaiting_payment"


class _RefusingRefunds:
    """The sandbox, except that it refuses every refund."""

    def __init__(self) -> None:
        from tulpar.integrations.payments.registry import provider_for

        self._real = provider_for("sandbox")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def refund(self, request: Any) -> Any:
        from tulpar.integrations.payments.protocol import ProviderRefund

        return ProviderRefund(reference="", succeeded=False, failure_message="card closed")


def test_a_refused_refund_opens_one_support_ticket_with_the_timeline(
    committed: sessionmaker[Session], api: TestClient
) -> None:
    from tulpar.models import Ticket

    iccid, headers = seed(committed)
    order = _place(api, headers, iccid)
    reference = order["payment"]["next_action"]["url"].rsplit("/", 1)[-1]
    api.post(f"/pay/sandbox/{reference}", data={"decision": "pay"}, follow_redirects=False)
    requery.run(now=clock.now() + timedelta(minutes=3), quiet_for=timedelta(minutes=2))
    _fail_over(order["id"], committed)

    with registry.override("sandbox", _RefusingRefunds()):
        run_jobs(committed, names=("payment.refund",))
        with transaction(committed) as session:
            assert not payment_service.refund(session, order_id=order["id"], reason="again")

    assert order_state(committed, order["id"]) == "provisioning_failed"
    with committed() as session:
        refund = session.scalars(select(Refund)).one()
        tickets = session.scalars(select(Ticket)).all()
    assert (refund.state.value, refund.failure_message) == ("failed", "card closed")
    assert [(t.kind.value, t.order_id) for t in tickets] == [("refund_failed", order["id"])]
    assert tickets[0].subject == f"Order {order['id']}: refund of 3,500 KZT failed (card closed)"
    assert [entry["to_state"] for entry in tickets[0].timeline] == [
        "awaiting_payment",
        "paid",
        "provisioning",
        "provisioning_failed",
    ]
