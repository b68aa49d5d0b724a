from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tulpar import clock
from tulpar.api.dependencies import TravellerCaller
from tulpar.auth import tokens
from tulpar.config import get_settings
from tulpar.errors import TulparError, UnauthorizedError
from tulpar.kit import problems
from tulpar.models import CardState, Notification, OtpChallenge, TravellerToken
from tulpar.otp import service
from tulpar.otp.errors import OtpNotConfiguredError


def _code(session: Session) -> str:
    body = session.scalars(select(Notification.body).order_by(Notification.id.desc())).first()
    match = re.search(r"\b(\d{6})\b", body or "")
    assert match is not None
    return match.group(1)


class TestTravellerToken:
    def test_expires_after_30_minutes(self, session: Session, frozen_now: datetime) -> None:
        card = create_card(session)
        service.request_code(session, card.iccid, client_address="10.0.0.1")
        verified = service.verify(session, card.iccid, _code(session))

        with clock.frozen(frozen_now + timedelta(minutes=29, seconds=59)):
            assert tokens.traveller_card_id(session, verified.token) == card.id
        with (
            clock.frozen(frozen_now + timedelta(minutes=30)),
            pytest.raises(UnauthorizedError),
        ):
            tokens.traveller_card_id(session, verified.token)

    @pytest.mark.parametrize("token", [None, "", "tlp_partner_key", "tvt_made-up"])
    def test_anything_else_is_unauthorized(self, session: Session, token: str | None) -> None:
        with pytest.raises(UnauthorizedError):
            tokens.traveller_card_id(session, token)

    def test_the_dependency_gives_the_card_and_401_without_a_token(
        self, session: Session, session_factory: sessionmaker[Session]
    ) -> None:
        card = create_card(session)
        service.request_code(session, card.iccid, client_address="10.0.0.1")
        token = service.verify(session, card.iccid, _code(session)).token
        session.flush()
        app = FastAPI()
        app.state.sessionmaker = session_factory
        problems.install(app)

        @app.get("/whoami")
        def whoami(caller: TravellerCaller) -> dict[str, int | None]:
            return {"card_id": caller.card_id}

        client = TestClient(app)
        mine = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        anonymous = client.get("/whoami")

        assert (mine.status_code, mine.json()) == (200, {"card_id": card.id})
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")


def test_a_placeholder_secret_is_refused_in_production(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = create_card(session)
    monkeypatch.setattr(get_settings(), "environment", "production")

    with pytest.raises(OtpNotConfiguredError):
        service.request_code(session, card.iccid, client_address="10.0.0.1")

    assert session.scalar(select(func.count()).select_from(OtpChallenge)) == 0
    assert session.scalar(select(func.count()).select_from(Notification)) == 0
    monkeypatch.setattr(get_settings(), "otp_secret", "x" * 40)
    service.request_code(session, card.iccid, client_address="10.0.0.1")
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def _race(factory: sessionmaker[Session], attempts: list[tuple[str, str]]) -> list[str]:
    """Run each (card, code) verify in its own thread and transaction, all released at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(card: str, code: str) -> None:
        barrier.wait()
        with factory() as session:
            try:
                service.verify(session, card, code)
                outcome = "token"
            except TulparError as error:
                outcome = error.code
            session.commit()  # the endpoint commits refusals too
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


class TestConcurrentVerifies:
    def test_never_count_more_than_five_attempts(self, committed: sessionmaker[Session]) -> None:
        with committed() as session:
            card = create_card(session, state=CardState.active)
            service.request_code(session, card.iccid, client_address="10.0.0.2")
            session.commit()
            iccid, code = card.iccid, _code(session)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"

        outcomes = _race(committed, [(iccid, wrong)] * 12)

        assert outcomes.count("otp_invalid") == 5
        assert outcomes.count("otp_locked") == 7
        with committed() as session:
            assert session.scalars(select(OtpChallenge.attempts)).all() == [5]

    def test_the_right_code_sent_twice_at_once_gives_one_token(
        self, committed: sessionmaker[Session]
    ) -> None:
        with committed() as session:
            card = create_card(session, state=CardState.active)
            service.request_code(session, card.iccid, client_address="10.0.0.3")
            session.commit()
            iccid, code = card.iccid, _code(session)

        outcomes = _race(committed, [(iccid, code)] * 6)

        assert outcomes == ["otp_invalid"] * 5 + ["token"]
        with committed() as session:
            assert session.scalar(select(func.count()).select_from(TravellerToken)) == 1

    def test_concurrent_code_requests_respect_the_cooldown(
        self, committed: sessionmaker[Session]
    ) -> None:
        with committed() as session:
            card = create_card(session, state=CardState.active)
            session.commit()
            iccid = card.iccid
        barrier = threading.Barrier(8)
        outcomes: list[str] = []

        def ask() -> None:
            barrier.wait()
            with committed() as session:
                try:
                    service.request_code(session, iccid, client_address="10.0.0.4")
                    session.commit()
                    outcomes.append("sent")
                except TulparError as error:
                    outcomes.append(error.code)

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes) == ["otp_resend_too_soon"] * 7 + ["sent"]
        with committed() as session:
            assert session.scalar(select(func.count()).select_from(Notification)) == 1
