from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tulpar.app import create_app
from tulpar.config import get_settings
from tulpar.notification import service


def test_the_outbox_lists_messages_newest_first(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    chinese = create_card(session, language="zh-Hans")
    english = create_card(session, language="en")
    service.queue_sms(
        session, card_id=chinese.id, template="otp", context={"code": "111111"}, dedupe_key="a"
    )
    service.queue_sms(
        session, card_id=english.id, template="otp", context={"code": "222222"}, dedupe_key="b"
    )
    session.flush()

    response = TestClient(create_app(session_factory)).get("/dev/outbox")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.index("222222") < page.index("111111")
    assert "【Tulpar】验证码：111111，5分钟内有效。请勿告诉他人。" in page
    assert str(chinese.msisdn) in page
    assert str(english.msisdn) in page
    assert "1 (ucs2)" in page
    assert "1 (gsm7)" in page
    assert page.count(">queued<") == 2


def test_the_outbox_is_not_mounted_outside_demo_mode(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "environment", "production")
    # Production starts only without placeholder secrets (config.check_environment).
    monkeypatch.setattr(get_settings(), "otp_secret", "o" * 40)
    monkeypatch.setattr(get_settings(), "payment_link_secret", "l" * 40)

    response = TestClient(create_app(session_factory)).get("/dev/outbox")

    assert response.status_code == 404
