"""A wallet too small to pay: the menu sends a signed, short-lived payment link by SMS; the
link opens the checkout for that card and plan (303 to the sandbox pay page), once however
often it is opened, and after 15 minutes — or forged — it changes nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.ussd.conftest import AtGateway, count, create_ussd_card, create_ussd_plans, written
from tulpar import clock
from tulpar.models import Card, CardState, Channel, Notification, Order, PaymentProviderName

LINK = re.compile(r"https?://[^\s/]+(/pay/link/\S+)")


def _ask_for_a_link(client: TestClient, session: Session, *, language: str) -> tuple[Card, str]:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=1_000_00, language=language)
    session.commit()
    assert card.msisdn is not None
    gateway = AtGateway(client, card.msisdn)
    gateway.dial()
    gateway.press("1")
    screen = gateway.press("1")
    while not re.search(r"^1 ", screen.split(" ", 1)[1], re.MULTILINE):
        screen = gateway.press("0")
    ended = gateway.press("1")
    return card, ended


class TestSendingTheLink:
    def test_the_confirmation_says_a_link_will_come_and_the_sms_carries_it(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card, ended = _ask_for_a_link(client, session, language="en")

        assert ended == "END We sent a payment link by SMS. It is valid for 15 minutes."
        sms = session.scalars(
            select(Notification).where(Notification.template == "ussd_payment_link")
        ).one()
        assert sms.card_id == card.id
        assert sms.recipient == card.msisdn
        assert sms.body.startswith("Tulpar: to pay 3,500 KZT for Test, open http")
        assert sms.body.endswith(" within 15 minutes.")
        assert count(session, Order) == 0  # nothing is bought until the link is opened

    def test_in_chinese_the_screen_fits_and_the_sms_is_chinese(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        _, ended = _ask_for_a_link(client, session, language="zh-Hans")

        assert ended == "END 支付链接已通过短信发送，15分钟内有效。"
        body = session.scalars(
            select(Notification.body).where(Notification.template == "ussd_payment_link")
        ).one()
        assert body.startswith("【Tulpar】支付3,500 KZT购买测试，请在15分钟内打开：http")


class TestOpeningTheLink:
    def test_it_opens_the_checkout_for_that_card_and_plan_once(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card, _ = _ask_for_a_link(client, session, language="en")
        path = _link(session)

        opened = client.get(path, follow_redirects=False)
        again = client.get(path, follow_redirects=False)

        assert opened.status_code == 303
        assert again.status_code == 303
        assert again.headers["location"] == opened.headers["location"]
        order = session.scalars(select(Order)).one()
        assert order.card_id == card.id
        assert order.channel is Channel.web
        assert order.payment_provider == PaymentProviderName.sandbox.value
        assert order.amount_minor == 3_500_00
        assert order.currency == "KZT"
        pay_page = client.get(opened.headers["location"])
        assert pay_page.status_code == 200
        assert "3,500 KZT" in pay_page.text
        assert f"Order {order.id}" in pay_page.text

    def test_after_15_minutes_it_has_expired_and_says_so_in_the_cards_language(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        _, _ = _ask_for_a_link(client, session, language="ru")
        path = _link(session)
        before = written(session)

        with clock.frozen(frozen_now + timedelta(minutes=15, seconds=1)):
            expired = client.get(path, follow_redirects=False)

        assert expired.status_code == 410
        assert "Срок действия ссылки на оплату истёк." in expired.text
        assert 'lang="ru"' in expired.text
        assert written(session) == before

    def test_a_forged_link_is_refused_in_the_browsers_language_and_changes_nothing(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        _, _ = _ask_for_a_link(client, session, language="ru")
        path = _link(session)
        card_id, rest = path.removeprefix("/pay/link/").split(".", 1)
        forged = f"/pay/link/{int(card_id) + 1}.{rest}"  # someone else's card
        before = written(session)

        answers = [
            client.get(forged, follow_redirects=False, headers={"Accept-Language": "en"}),
            client.get(path[:-2] + "XX", follow_redirects=False),  # another plan code
            client.get("/pay/link/not-a-token", follow_redirects=False),
        ]

        assert [answer.status_code for answer in answers] == [400, 400, 400]
        assert "This payment link is not valid." in answers[0].text
        assert "此支付链接无效。" in answers[2].text  # no language asked for: Chinese
        assert written(session) == before

    def test_a_link_for_a_card_since_terminated_is_refused(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card, _ = _ask_for_a_link(client, session, language="en")
        path = _link(session)
        with clock.frozen(frozen_now + timedelta(minutes=10)):
            # The card was suspended meanwhile.
            session.execute(
                update(Card).where(Card.id == card.id).values(state=CardState.suspended)
            )
            session.commit()
            before = written(session)
            refused = client.get(path, follow_redirects=False)

        assert refused.status_code == 409
        assert "This renewal cannot be paid now." in refused.text
        assert written(session) == before


def _link(session: Session) -> str:
    body = session.scalars(
        select(Notification.body).where(Notification.template == "ussd_payment_link")
    ).one()
    match = LINK.search(body)
    assert match is not None, body
    return match.group(1)
