"""Travellers' texts through the signed inbound endpoint and the inbox: the balance keywords
in all four languages, STOP, and what is never opted out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card
from tests.sms.twilio import AUTH_TOKEN, PUBLIC_URL, post_signed
from tulpar.fulfilment import inbox
from tulpar.models import Card, InboxMessage, Notification
from tulpar.notification import service
from tulpar.notification.inbound import keyword_of
from tulpar.notification.templates import TEMPLATES

INBOUND_PATH = "/v1/sms/inbound"
_sids = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def twilio_settings(configure: Callable[..., None]) -> None:
    configure(sms_http_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_URL)


def _text(client: TestClient, session: Session, sender: str, body: str) -> str | None:
    """Send ``body`` from ``sender`` and run the inbox job on it; its outcome."""
    sid = f"SM{next(_sids):032d}"
    response = post_signed(
        client,
        INBOUND_PATH,
        {"MessageSid": sid, "From": sender, "To": "+77000000000", "Body": body},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    message_id = session.scalar(select(InboxMessage.id).where(InboxMessage.external_id == sid))
    assert message_id is not None
    return inbox.handle(session, message_id)


def _sent_to(session: Session, card: Card) -> list[Notification]:
    return service.for_card(session, card.id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BAL", "balance"),
        (" bal \n", "balance"),
        ("Balance", "balance"),
        ("ＢＡＬ", "balance"),
        ("余额", "balance"),
        (" 余额。", "balance"),
        ("баланс", "balance"),
        ("БАЛАНС!", "balance"),
        ("қалдық", "balance"),
        ("ҚАЛДЫҚ", "balance"),
        ("stop", "stop"),
        ("退订", "stop"),
        ("стоп", "stop"),
        ("Отписка", "stop"),
        ("тоқтату", "stop"),
        ("balance please", None),
        ("", None),
        ("BALL", None),
    ],
)
def test_keywords_are_matched_trimmed_and_case_insensitively(text: str, expected: str | None):
    assert keyword_of(text) == expected


@pytest.mark.parametrize(
    ("language", "keyword", "opening"),
    [
        ("zh-Hans", "余额", "【Tulpar】余额：有效期至2026-12-01 11:00 (UTC+5)。剩余：流量5 GB"),
        ("ru", "БАЛАНС", "Tulpar: баланс. Действует до 2026-12-01 11:00 (UTC+5). Осталось"),
        ("kk", "ҚАЛДЫҚ", "Tulpar: қалдық. 2026-12-01 11:00 (UTC+5) дейін жарамды. Қалды"),
        ("en", "bal", "Tulpar balance: valid until 2026-12-01 11:00 (UTC+5). Left: data 5 GB"),
    ],
)
def test_a_balance_keyword_is_answered_in_the_cards_language(
    session: Session,
    client: TestClient,
    frozen_now: datetime,
    language: str,
    keyword: str,
    opening: str,
) -> None:
    card, _ = create_active_card(session, language=language)

    assert _text(client, session, str(card.msisdn), keyword) == "answered: balance_reply"

    (reply,) = _sent_to(session, card)
    assert (reply.template, reply.recipient, reply.language) == (
        "balance_reply",
        card.msisdn,
        language,
    )
    assert reply.body.startswith(opening)


def test_a_card_without_a_plan_is_told_so(session: Session, client: TestClient) -> None:
    card = create_card(session, language="zh-Hans")

    assert _text(client, session, str(card.msisdn), "余额") == "answered: balance_reply_no_plan"
    (reply,) = _sent_to(session, card)
    assert reply.body == "【Tulpar】余额：暂无有效套餐。钱包余额0 KZT。拨打*100#续费。"


def test_an_unknown_number_or_text_gets_no_answer(session: Session, client: TestClient) -> None:
    card = create_card(session)

    assert _text(client, session, "+77019999999", "BAL") == "ignored: not a card of ours"
    assert _text(client, session, str(card.msisdn), "hello") == "ignored: no keyword"
    assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_the_same_text_delivered_twice_is_answered_once(
    session: Session, client: TestClient
) -> None:
    card = create_card(session, language="en")
    form = {"MessageSid": "SMdup", "From": str(card.msisdn), "To": "+7700", "Body": "BAL"}
    post_signed(client, INBOUND_PATH, form)
    post_signed(client, INBOUND_PATH, form)

    (message_id,) = session.scalars(select(InboxMessage.id))
    inbox.handle(session, message_id)
    assert len(_sent_to(session, card)) == 1


def test_a_forged_inbound_text_is_refused_and_nothing_stored(
    session: Session, client: TestClient
) -> None:
    card = create_card(session)
    response = client.post(
        INBOUND_PATH,
        content=f"MessageSid=SM1&From={card.msisdn}&Body=STOP",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        },
    )
    assert response.status_code == 401
    assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0
    session.refresh(card)
    assert card.marketing_opt_out_at is None


class TestStop:
    def test_stop_opts_out_of_marketing_but_confirmations_are_still_sent(
        self,
        session: Session,
        client: TestClient,
        frozen_now: datetime,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        card, _ = create_active_card(session, language="zh-Hans")
        assert service.may_send_marketing(card)

        assert _text(client, session, str(card.msisdn), "退订") == "opted out"
        assert _text(client, session, str(card.msisdn), "STOP") == "opted out already"

        session.refresh(card)
        assert card.marketing_opt_out_at == frozen_now
        assert not service.may_send_marketing(card)
        replies = _sent_to(session, card)
        assert [reply.template for reply in replies] == ["stop_confirmed", "stop_confirmed"]
        assert replies[0].body == "【Tulpar】已退订提醒和优惠信息。验证码和付款确认短信仍会发送。"

        # A reminder (any marketing template) is no longer queued …
        monkeypatch.setitem(
            TEMPLATES, "reminder_test", replace(TEMPLATES["stop_confirmed"], marketing=True)
        )
        reminder = service.queue_sms(
            session, card_id=card.id, template="reminder_test", context={}, dedupe_key="r"
        )
        # … while a renewal confirmation and a verification code still are.
        confirmation = service.queue_sms(
            session,
            card_id=card.id,
            template="renewal_confirmed",
            context={"plan": {"zh-Hans": "15天 10GB", "en": "15 days"}},
            dedupe_key="order:1:confirmed",
        )
        code = service.queue_sms(
            session, card_id=card.id, template="otp", context={"code": "123456"}, dedupe_key="o"
        )
        assert reminder is None
        assert confirmation is not None
        assert code is not None
        assert [n.template for n in _sent_to(session, card)][-2:] == ["renewal_confirmed", "otp"]
