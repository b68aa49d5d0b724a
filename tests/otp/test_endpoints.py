from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card, make_iccid
from tulpar import clock
from tulpar.app import create_app
from tulpar.auth import tokens
from tulpar.config import get_settings
from tulpar.models import Card, CardState, Notification, OtpChallenge, TravellerToken

ACCEPTED = {
    "status": "accepted",
    "detail": "If this card exists, a 6-digit code was sent by SMS to its phone number.",
    "code_valid_seconds": 300,
    "resend_after_seconds": 60,
}


@pytest.fixture
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(session_factory)) as test_client:
        yield test_client


def _notifications(session: Session) -> list[Notification]:
    return list(session.scalars(select(Notification).order_by(Notification.id)))


def _code(session: Session) -> str:
    match = re.search(r"\b(\d{6})\b", _notifications(session)[-1].body)
    assert match is not None
    return match.group(1)


def _challenges(session: Session) -> list[OtpChallenge]:
    session.expire_all()
    return list(session.scalars(select(OtpChallenge).order_by(OtpChallenge.id)))


def _later(seconds: float) -> object:
    return clock.frozen(clock.now() + timedelta(seconds=seconds))


class TestRequestCode:
    def test_sends_a_code_to_the_cards_phone(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session, language="zh-Hans", state=CardState.active)
        session.flush()

        response = client.post("/v1/otp", json={"card": card.iccid})

        assert (response.status_code, response.json()) == (202, ACCEPTED)
        [sms] = _notifications(session)
        code = _code(session)
        assert (sms.card_id, sms.template, sms.recipient) == (card.id, "otp", card.msisdn)
        assert sms.body == f"【Tulpar】验证码：{code}，5分钟内有效。请勿告诉他人。"
        [challenge] = _challenges(session)
        assert challenge.card_id == card.id
        assert challenge.code_hmac is not None
        assert code not in challenge.code_hmac
        assert len(challenge.code_hmac) == 64
        assert challenge.expires_at == frozen_now + timedelta(minutes=5)

    def test_by_phone_number_in_national_form(self, client: TestClient, session: Session) -> None:
        card = create_card(session, msisdn="+77015550101", state=CardState.active)
        session.flush()

        response = client.post("/v1/otp", json={"card": "8 701 555 01 01"})

        assert (response.status_code, response.json()) == (202, ACCEPTED)
        assert [n.card_id for n in _notifications(session)] == [card.id]

    def test_an_unknown_card_gets_the_same_answer_and_no_sms(
        self, client: TestClient, session: Session
    ) -> None:
        response = client.post("/v1/otp", json={"card": make_iccid(99_999)})

        assert (response.status_code, response.json()) == (202, ACCEPTED)
        assert _notifications(session) == []
        [challenge] = _challenges(session)
        assert (challenge.card_id, challenge.code_hmac) == (None, None)

    def test_a_terminated_cards_recycled_number_gets_no_sms(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session, state=CardState.terminated)
        session.flush()

        response = client.post("/v1/otp", json={"card": card.iccid})

        assert (response.status_code, response.json()) == (202, ACCEPTED)
        assert _notifications(session) == []

    def test_text_that_is_no_card_number_is_a_422_problem(
        self, client: TestClient, session: Session
    ) -> None:
        response = client.post("/v1/otp", json={"card": "hello"})

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_card"
        assert _challenges(session) == []

    @pytest.mark.parametrize("known", [True, False])
    def test_a_resend_within_60_seconds_is_refused_alike_for_any_card(
        self, client: TestClient, session: Session, frozen_now: datetime, known: bool
    ) -> None:
        iccid = create_card(session).iccid if known else make_iccid(88_888)
        session.flush()
        assert client.post("/v1/otp", json={"card": iccid}).status_code == 202

        with _later(59):  # type: ignore[attr-defined]
            refused = client.post("/v1/otp", json={"card": iccid})
        with _later(60):  # type: ignore[attr-defined]
            again = client.post("/v1/otp", json={"card": iccid})

        assert refused.status_code == 429
        assert {k: refused.json()[k] for k in ("code", "detail", "retry_after_seconds")} == {
            "code": "otp_resend_too_soon",
            "detail": "Wait a moment before asking for another code",
            "retry_after_seconds": 1,
        }
        assert again.status_code == 202
        assert len(_challenges(session)) == 2
        assert len(_notifications(session)) == (2 if known else 0)

    def test_the_hourly_cap_per_card(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session)
        session.flush()
        for minute in range(5):
            with clock.frozen(frozen_now + timedelta(minutes=2 * minute)):
                assert client.post("/v1/otp", json={"card": card.iccid}).status_code == 202

        with clock.frozen(frozen_now + timedelta(minutes=30)):
            capped = client.post("/v1/otp", json={"card": card.msisdn})  # by number too
        with clock.frozen(frozen_now + timedelta(minutes=60, seconds=1)):
            reopened = client.post("/v1/otp", json={"card": card.iccid})

        assert capped.status_code == 429
        assert (capped.json()["code"], capped.json()["retry_after_seconds"]) == (
            "otp_rate_limited",
            30 * 60,
        )
        assert reopened.status_code == 202
        assert len(_notifications(session)) == 6

    def test_the_hourly_cap_per_client_address(
        self, client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "otp_hourly_cap_per_address", 3)
        cards = [create_card(session) for _ in range(4)]
        session.flush()

        answers = [client.post("/v1/otp", json={"card": c.iccid}).status_code for c in cards]

        assert answers == [202, 202, 202, 429]
        assert [n.card_id for n in _notifications(session)] == [c.id for c in cards[:3]]


class TestVerify:
    def _request(self, client: TestClient, session: Session, card: Card) -> str:
        assert client.post("/v1/otp", json={"card": card.iccid}).status_code == 202
        return _code(session)

    def test_the_right_code_gives_a_30_minute_token_for_that_card(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session)
        session.flush()
        code = self._request(client, session, card)

        response = client.post("/v1/otp/verify", json={"card": card.msisdn, "code": code})

        assert response.status_code == 200
        body = response.json()
        assert body["card"] == f"{card.iccid[:6]}…{card.iccid[-4:]}"
        assert body["token_type"] == "Bearer"
        assert datetime.fromisoformat(body["expires_at"]) == frozen_now + timedelta(minutes=30)
        assert tokens.traveller_card_id(session, body["token"]) == card.id
        [stored] = session.scalars(select(TravellerToken)).all()
        assert body["token"] not in stored.token_sha256
        # The code cannot be used twice.
        reused = client.post("/v1/otp/verify", json={"card": card.iccid, "code": code})
        assert (reused.status_code, reused.json()["code"]) == (400, "otp_invalid")

    def test_wrong_codes_count_and_the_sixth_try_is_locked_even_if_right(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session)
        session.flush()
        code = self._request(client, session, card)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"

        answers = [
            client.post("/v1/otp/verify", json={"card": card.iccid, "code": wrong})
            for _ in range(5)
        ]
        locked = client.post("/v1/otp/verify", json={"card": card.iccid, "code": code})

        assert [(a.status_code, a.json()["attempts_left"]) for a in answers] == [
            (400, 4), (400, 3), (400, 2), (400, 1), (400, 0),
        ]  # fmt: skip
        assert (locked.status_code, locked.json()["code"]) == (429, "otp_locked")
        assert [c.attempts for c in _challenges(session)] == [5]
        assert session.scalar(select(func.count()).select_from(TravellerToken)) == 0

    def test_an_unknown_card_answers_exactly_like_a_wrong_code(
        self, client: TestClient, session: Session
    ) -> None:
        card = create_card(session)
        unknown = make_iccid(77_777)
        session.flush()
        self._request(client, session, card)
        client.post("/v1/otp", json={"card": unknown})

        real = client.post("/v1/otp/verify", json={"card": card.iccid, "code": "000000"})
        fake = client.post("/v1/otp/verify", json={"card": unknown, "code": "000000"})

        assert real.status_code == fake.status_code == 400
        assert {**real.json(), "instance": None} == {**fake.json(), "instance": None}

    def test_an_expired_code_is_refused(
        self, client: TestClient, session: Session, frozen_now: datetime
    ) -> None:
        card = create_card(session)
        session.flush()
        code = self._request(client, session, card)

        with _later(301):  # type: ignore[attr-defined]
            response = client.post("/v1/otp/verify", json={"card": card.iccid, "code": code})

        assert (response.status_code, response.json()["code"]) == (400, "otp_invalid")
        assert session.scalar(select(func.count()).select_from(TravellerToken)) == 0

    def test_a_malformed_code_is_a_422(self, client: TestClient) -> None:
        response = client.post("/v1/otp/verify", json={"card": make_iccid(1), "code": "12a456"})
        assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
