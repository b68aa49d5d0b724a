"""Limits answered 429 with Retry-After (issue 12, defect 13): per card for each caller, per
address for bad credentials and for calls without any, per partner when it has a limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.app import create_app
from tulpar.models import IdempotencyKey, Notification, Order, OtpChallenge, Payment
from tulpar.partner import service as partner_service

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
Clients = Callable[..., TestClient]


@pytest.fixture
def clients(
    session_factory: sessionmaker[Session], configure: Callable[..., None]
) -> Iterator[Clients]:
    """A test client of an app built with these limits (``rate_limit_*`` settings), calling
    from ``address``, on a clock frozen at :data:`START`."""
    opened: list[TestClient] = []

    def open_client(address: str = "198.51.100.7", **limits: int) -> TestClient:
        configure(**{f"rate_limit_{name}": value for name, value in limits.items()})
        client = TestClient(create_app(session_factory), client=(address, 50000))
        opened.append(client.__enter__())
        return client

    with clock.frozen(START):
        yield open_client
    for client in opened:
        client.__exit__(None, None, None)


@contextmanager
def later(seconds: float) -> Iterator[None]:
    with clock.frozen(START + timedelta(seconds=seconds)):
        yield


def _partner(
    session: Session, name: str, *, per_minute: int | None = None
) -> tuple[int, dict[str, str]]:
    partner, key = partner_service.create_key(session, name, scopes=["partner"])
    partner.requests_per_minute = per_minute
    session.flush()
    return partner.id, {"Authorization": f"Bearer {key}"}


def _assert_limited(answer: object, retry_after: int) -> None:
    from httpx import Response

    assert isinstance(answer, Response)
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == str(retry_after)
    assert answer.json()["code"] == "rate_limited"
    assert answer.json()["retry_after_seconds"] == retry_after


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestPerCard:
    def test_one_caller_reading_one_card_too_often_is_limited_until_the_bucket_refills(
        self, clients: Clients, session: Session
    ) -> None:
        partner_id, headers = _partner(session, "Seller")
        _, other_headers = _partner(session, "Other seller")
        card, _ = create_active_card(session, partner_id=partner_id)
        other_card, _ = create_active_card(session, partner_id=partner_id)
        session.commit()
        client = clients(card_per_minute=3)
        path = f"/v1/cards/{card.iccid}/balance"

        assert [client.get(path, headers=headers).status_code for _ in range(3)] == [200] * 3
        # 3 a minute: one more every 20 s.
        _assert_limited(client.get(path, headers=headers), retry_after=20)
        spaced = f"/v1/cards/{card.iccid[:4]} {card.iccid[4:]}/balance"
        _assert_limited(client.get(spaced, headers=headers), retry_after=20)
        # Another card, and the same card for another caller, are counted apart.
        assert (
            client.get(f"/v1/cards/{other_card.iccid}/balance", headers=headers).status_code == 200
        )
        assert client.get(path, headers=other_headers).status_code == 404  # not its card

        with later(19):
            _assert_limited(client.get(path, headers=headers), retry_after=1)
        with later(20):
            assert client.get(path, headers=headers).status_code == 200
            _assert_limited(client.get(path, headers=headers), retry_after=20)

    def test_the_default_limit_leaves_a_normal_partner_alone(
        self, clients: Clients, session: Session
    ) -> None:
        partner_id, headers = _partner(session, "Seller")
        card, _ = create_active_card(session, partner_id=partner_id)
        session.commit()
        client = clients()
        path = f"/v1/cards/{card.iccid}/balance"

        assert [client.get(path, headers=headers).status_code for _ in range(30)] == [200] * 30
        assert client.get(path, headers=headers).status_code == 429


class TestPerPartner:
    def test_no_limit_on_a_partners_keys_unless_one_is_set(
        self, clients: Clients, session: Session
    ) -> None:
        partner_id, headers = _partner(session, "USSD gateway")
        cards = [create_active_card(session, partner_id=partner_id)[0] for _ in range(3)]
        session.commit()
        client = clients(card_per_minute=0)

        answers = [
            client.get(f"/v1/cards/{card.iccid}/balance", headers=headers).status_code
            for _ in range(40)
            for card in cards
        ]

        assert answers == [200] * 120

    def test_a_partners_own_limit_covers_all_its_calls_and_refuses_before_any_write(
        self, clients: Clients, session: Session
    ) -> None:
        partner_id, headers = _partner(session, "Small shop", per_minute=2)
        card, _ = create_active_card(session, partner_id=partner_id)
        create_plan(session, code="P")
        session.commit()
        client = clients()

        assert client.get(f"/v1/cards/{card.iccid}/balance", headers=headers).status_code == 200
        assert (
            client.get(f"/v1/cards/{card.iccid}/quote?plan=P", headers=headers).status_code == 200
        )
        order = client.post(
            "/v1/orders",
            json={"card": card.iccid, "plan": "P"},
            headers={**headers, "Idempotency-Key": "k1"},
        )

        _assert_limited(order, retry_after=30)
        for model in (Order, Payment, IdempotencyKey):
            assert _count(session, model) == 0
        with later(30):
            placed = client.post(
                "/v1/orders",
                json={"card": card.iccid, "plan": "P"},
                headers={**headers, "Idempotency-Key": "k1"},
            )
            assert placed.status_code == 201, placed.text


class TestPerAddress:
    def test_bad_keys_from_one_address_are_limited_and_then_refused_unread(
        self, clients: Clients, session: Session
    ) -> None:
        partner_id, headers = _partner(session, "Seller")
        card, _ = create_active_card(session, partner_id=partner_id)
        session.commit()
        attacker = clients(address="203.0.113.9", bad_credentials_per_minute=5)
        path = f"/v1/cards/{card.iccid}/balance"
        bad = {"Authorization": "Bearer tlp_aaaaaaaaaaaa_wrong"}

        assert [attacker.get(path, headers=bad).status_code for _ in range(5)] == [401] * 5
        _assert_limited(attacker.get(path, headers=bad), retry_after=12)
        _assert_limited(attacker.get(path), retry_after=12)  # no key at all: refused too
        _assert_limited(attacker.get("/v1/orders/1", headers=bad), retry_after=12)
        # Until the address has refusals left, even a good key from it is not looked at.
        _assert_limited(attacker.get(path, headers=headers), retry_after=12)

        elsewhere = clients(address="192.0.2.1", bad_credentials_per_minute=5)
        assert elsewhere.get(path, headers=headers).status_code == 200
        with later(12):
            assert attacker.get(path, headers=headers).status_code == 200
            assert attacker.get(path, headers=bad).status_code == 401
            _assert_limited(attacker.get(path, headers=bad), retry_after=12)

    def test_calls_without_credentials_are_limited_per_address(
        self, clients: Clients, session: Session
    ) -> None:
        _, headers = _partner(session, "Seller")
        session.commit()
        client = clients(anonymous_per_minute=3)

        assert [client.get("/v1/plans").status_code for _ in range(3)] == [200] * 3
        _assert_limited(client.get("/v1/plans"), retry_after=20)
        _assert_limited(client.post("/v1/otp", json={"card": "+77010000001"}), retry_after=20)
        assert _count(session, OtpChallenge) == _count(session, Notification) == 0
        # With credentials the address limit does not apply.
        assert client.get("/v1/plans", headers=headers).status_code == 200
        with later(20):
            assert client.get("/v1/plans").status_code == 200
