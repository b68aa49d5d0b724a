"""``*100#`` through the Africa's Talking callback: balance at once, renew from the wallet,
the order completes and the confirmation SMS is queued; a repeated confirm places one order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import run_jobs
from tests.provisioning.fakes import ScriptedCarrier
from tests.ussd.conftest import AtGateway, count, create_ussd_card, create_ussd_plans
from tulpar.app import create_app
from tulpar.integrations.carrier import use_carrier
from tulpar.kit.format import local_time
from tulpar.models import Card, Channel, Notification, Order, OrderState, PaymentProviderName
from tulpar.ussd.screens import fits


@pytest.fixture
def live_client(committed: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app on the real (committed) database, for journeys that run jobs."""
    with TestClient(create_app(committed)) as client:
        yield client


class TestRenewingFromTheWallet:
    def test_english_balance_renew_choose_confirm_pay_complete_and_confirm_by_sms(
        self, live_client: TestClient, committed: sessionmaker[Session]
    ) -> None:
        with committed() as session:
            plans = create_ussd_plans(session)
            card = create_ussd_card(session, plan=plans[0], wallet_minor=10_000_00, language="en")
            session.commit()
            card_id, phone, validity_before = card.id, card.msisdn, card.validity_ends_at
        assert phone is not None
        assert validity_before is not None
        gateway = AtGateway(live_client, phone)

        balance = gateway.dial()
        assert balance.startswith("CON ")
        assert f"Valid until {local_time(validity_before)}" in balance
        assert "Data 5 GB, calls 60 min, SMS 50" in balance
        assert "Wallet 10000 KZT" in balance
        assert "1 Renew\n2 Balance by SMS\n3 Language\n0 Exit" in balance

        listing = gateway.press("1")
        assert listing == (
            "CON Choose a plan:\n1 Test 3500 KZT\n2 Test 5900 KZT\n3 Test 8900 KZT\n00 Back"
        )
        confirm = gateway.press("2")
        quote_end = validity_before + timedelta(days=15)
        assert confirm.startswith("CON Test\n5900 KZT, until " + local_time(quote_end))
        assert "Paid from wallet (10000 KZT)" in confirm
        assert confirm.endswith("1 Pay\n00 Back")

        paid = gateway.press("1")
        assert paid.startswith("END Paid from your wallet. Order ")
        with committed() as session:
            order = session.scalars(select(Order)).one()
            assert order.channel is Channel.ussd
            assert order.payment_provider == PaymentProviderName.wallet.value
            assert order.state is OrderState.paid
            assert order.amount_minor == 5_900_00
        assert f"Order {order.id}." in paid

        carrier = ScriptedCarrier()
        with use_carrier(carrier):
            run_jobs(committed, names=("provisioning.apply",))
        assert [call for call, _ in carrier.calls] == ["apply_bundle"]
        with committed() as session:
            completed = session.get(Order, order.id)
            assert completed is not None
            assert completed.state is OrderState.completed
            renewed = session.get(Card, card_id)
            assert renewed is not None
            assert renewed.validity_ends_at == quote_end
            (confirmation,) = session.scalars(
                select(Notification).where(Notification.template == "renewal_confirmed")
            )
            assert confirmation.recipient == phone
            assert local_time(quote_end) in confirmation.body
            assert "Wallet 4100 KZT" in confirmation.body.replace(",", "")

    def test_the_same_in_chinese_within_the_ucs2_limit(
        self, live_client: TestClient, committed: sessionmaker[Session]
    ) -> None:
        with committed() as session:
            plans = create_ussd_plans(session)
            card = create_ussd_card(
                session, plan=plans[0], wallet_minor=10_000_00, language="zh-Hans"
            )
            session.commit()
            phone = card.msisdn
        assert phone is not None
        gateway = AtGateway(live_client, phone)

        screens = [gateway.dial(), gateway.press("1"), gateway.press("1")]
        # The confirmation may span pages: "0 更多" until "1 支付" shows.
        while "1 支付" not in screens[-1]:
            assert "0 更多" in screens[-1]
            screens.append(gateway.press("0"))
        screens.append(gateway.press("1"))

        assert all(fits(screen) for screen in screens), screens
        assert all(len(screen) <= 80 for screen in screens)
        assert screens[0].startswith("CON 有效期至")
        assert "钱包10000 KZT" in screens[0]
        assert screens[-1].startswith("END 已从钱包支付，订单号")
        with committed() as session:
            order = session.scalars(select(Order)).one()
        assert f"订单号{order.id}。" in screens[-1]
        with use_carrier(ScriptedCarrier()):
            run_jobs(committed, names=("provisioning.apply",))
        with committed() as session:
            (confirmation,) = session.scalars(
                select(Notification.body).where(Notification.template == "renewal_confirmed")
            )
        assert confirmation.startswith("【Tulpar】测试已生效，有效期至")


class TestRepeatedRequests:
    def test_a_repeated_confirm_places_one_order_and_answers_the_same(
        self, client: TestClient, session: Session
    ) -> None:
        plans = create_ussd_plans(session)
        card = create_ussd_card(session, plan=plans[0], wallet_minor=10_000_00, language="en")
        session.commit()
        assert card.msisdn is not None
        gateway = AtGateway(client, card.msisdn)
        gateway.dial()
        gateway.press("1")
        gateway.press("1")

        first = gateway.press("1")
        again = gateway.send_text("1*1*1")  # the gateway retries the same request
        late_duplicate = gateway.send_text("1*1")  # an older request arriving late

        assert first.startswith("END Paid from your wallet.")
        assert again == first
        assert late_duplicate == first
        assert count(session, Order) == 1

    def test_a_new_input_after_the_end_repeats_the_last_answer(
        self, client: TestClient, session: Session
    ) -> None:
        plans = create_ussd_plans(session)
        card = create_ussd_card(session, plan=plans[0], wallet_minor=10_000_00, language="en")
        session.commit()
        assert card.msisdn is not None
        gateway = AtGateway(client, card.msisdn)
        gateway.dial()
        for entry in ("1", "1"):
            gateway.press(entry)
        paid = gateway.press("1")

        assert gateway.send_text("1*1*1*1") == paid
        assert count(session, Order) == 1

    def test_a_repeated_first_request_shows_the_balance_again(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_ussd_card(session, plan=create_ussd_plans(session)[0], language="en")
        session.commit()
        assert card.msisdn is not None
        gateway = AtGateway(client, card.msisdn)

        assert gateway.dial() == gateway.dial()
