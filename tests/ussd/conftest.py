"""Helpers for USSD tests: a gateway's requests in both conventions, demo-like plans and a
card with money in its wallet."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tulpar.kit.format import GB
from tulpar.models import (
    Card,
    Channel,
    IdempotencyKey,
    LedgerCause,
    LedgerEntry,
    Notification,
    Order,
    Payment,
    Plan,
    UssdSession,
)
from tulpar.money import Money
from tulpar.wallet import service as wallet_service

AT_PATH = "/v1/ussd/africastalking"
JSON_PATH = "/v1/ussd/json"


@dataclass
class AtGateway:
    """Africa's Talking as it calls us: every input so far joined by ``*``."""

    client: TestClient
    phone: str
    session_id: str = "ATUid_test_1"
    service_code: str = "*100#"
    inputs: list[str] = field(default_factory=list)

    def dial(self) -> str:
        self.inputs = []
        return self.send_text("")

    def press(self, entry: str) -> str:
        self.inputs.append(entry)
        return self.send_text("*".join(self.inputs))

    def send_text(self, text: str) -> str:
        response = self.client.post(
            AT_PATH,
            data={
                "sessionId": self.session_id,
                "serviceCode": self.service_code,
                "phoneNumber": self.phone,
                "networkCode": "40101",
                "text": text,
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        reply: str = response.text
        return reply


@dataclass
class JsonGateway:
    """A JSON gateway: only the newest input; the dialogue's state is ours."""

    client: TestClient
    phone: str
    session_id: str = "json-session-1"

    def send(self, entry: str | None) -> dict[str, object]:
        response = self.client.post(
            JSON_PATH,
            json={
                "session_id": self.session_id,
                "msisdn": self.phone,
                "service_code": "*100#",
                "input": entry,
            },
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


def create_ussd_plans(session: Session) -> list[Plan]:
    """Three plans sold on USSD (like the demo's) and one that is not."""
    plans = [
        create_plan(
            session,
            code=f"U-{days}D",
            validity_days=days,
            data_bytes=data_gb * GB,
            prices_minor={"KZT": price, "CNY": 52_00},
            channels=(Channel.ussd, Channel.web),
        )
        for days, data_gb, price in ((7, 5, 3_500_00), (15, 10, 5_900_00), (30, 20, 8_900_00))
    ]
    create_plan(session, code="WEB-ONLY", channels=(Channel.web,))
    return plans


def create_ussd_card(
    session: Session,
    *,
    plan: Plan,
    wallet_minor: int = 0,
    language: str = "zh-Hans",
    **options: object,
) -> Card:
    """An active card on ``plan`` (applied two days ago) with ``wallet_minor`` in its wallet."""
    card, _ = create_active_card(session, plan=plan, language=language, days_ago=2, **options)
    if wallet_minor:
        wallet_service.move(
            session,
            card_id=card.id,
            amount=Money(wallet_minor, "KZT"),
            cause=LedgerCause.manual_credit,
            actor="test",
            reason="test wallet",
        )
    session.flush()
    return card


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


WRITTEN = (Order, Payment, Notification, UssdSession, IdempotencyKey, LedgerEntry)


def written(session: Session) -> dict[str, int]:
    """How many rows a refusal could have written: it must write none."""
    session.expire_all()
    return {model.__tablename__: count(session, model) for model in WRITTEN}
