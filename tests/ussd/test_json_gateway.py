"""The same menu through a JSON gateway that sends only the newest input: the dialogue's
state is kept here, so the walk and its outcome are the Africa's Talking ones."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.ussd.conftest import (
    AtGateway,
    JsonGateway,
    count,
    create_ussd_card,
    create_ussd_plans,
)
from tulpar.models import Channel, Notification, Order, UssdSession


def test_balance_renew_confirm_and_pay_from_the_wallet(
    client: TestClient, session: Session
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=10_000_00, language="en")
    session.commit()
    assert card.msisdn is not None
    gateway = JsonGateway(client, card.msisdn)

    balance = gateway.send(None)
    listing = gateway.send("1")
    confirm = gateway.send("3")
    paid = gateway.send("1")
    retried = gateway.send("1")  # the gateway repeats the last request

    assert balance["end"] is False
    assert str(balance["text"]).startswith("Valid until ")
    assert "Wallet 10000 KZT" in str(balance["text"])
    assert listing == {
        "text": "Choose a plan:\n1 Test 3500 KZT\n2 Test 5900 KZT\n3 Test 8900 KZT\n00 Back",
        "end": False,
    }
    assert str(confirm["text"]).startswith("Test\n8900 KZT, until ")
    assert paid["end"] is True
    assert str(paid["text"]).startswith("Paid from your wallet. Order ")
    assert retried == paid
    order = session.scalars(select(Order)).one()
    assert order.channel is Channel.ussd
    assert order.amount_minor == 8_900_00


def test_both_gateways_show_the_same_screens(client: TestClient, session: Session) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=2_000_00, language="kk")
    session.commit()
    assert card.msisdn is not None
    json_gateway, at_gateway = JsonGateway(client, card.msisdn), AtGateway(client, card.msisdn)
    walk = ["1", "0", "00", "2", "00", "00", "3", "00"]

    by_json = [json_gateway.send("")] + [json_gateway.send(entry) for entry in walk]
    by_at = [at_gateway.dial()] + [at_gateway.press(entry) for entry in walk]

    assert [("END " if screen["end"] else "CON ") + str(screen["text"]) for screen in by_json] == (
        by_at
    )
    assert count(session, UssdSession) == 2  # one dialogue per gateway session


def test_sending_the_balance_by_sms_once_per_dialogue(client: TestClient, session: Session) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=1_234_00, language="ru")
    session.commit()
    assert card.msisdn is not None
    gateway = JsonGateway(client, card.msisdn)
    gateway.send(None)

    sent = gateway.send("2")
    gateway.send("2")

    assert sent == {"text": "Баланс отправлен вам по SMS.", "end": True}
    (sms,) = session.scalars(select(Notification).where(Notification.card_id == card.id))
    assert sms.template == "balance_reply"
    assert sms.body.startswith("Tulpar: баланс. Действует до ")
    assert "Кошелёк 1\xa0234 KZT." in sms.body


def test_choosing_a_language_changes_the_cards_language(
    client: TestClient, session: Session
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], language="zh-Hans")
    session.commit()
    assert card.msisdn is not None
    gateway = JsonGateway(client, card.msisdn)
    gateway.send(None)

    languages = gateway.send("3")
    home = gateway.send("4")

    assert languages["text"] == "1 中文\n2 Русский\n3 Қазақша\n4 English\n00 返回"
    assert str(home["text"]).startswith("Valid until ")
    session.refresh(card)
    assert card.language == "en"
