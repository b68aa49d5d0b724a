"""Through HTTP and a real worker: request a code, the worker sends it to the outbox, the
traveller reads it there and exchanges it for a token."""

from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tulpar.app import create_app
from tulpar.auth import tokens
from tulpar.models import CardState, Notification, NotificationState
from tulpar.worker import run_worker


def test_code_by_sms_through_the_worker_then_a_token(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        card = create_card(session, language="zh-Hans", state=CardState.active)
        session.commit()
        iccid, card_id = card.iccid, card.id
    client = TestClient(create_app(committed))

    assert client.post("/v1/otp", json={"card": iccid}).status_code == 202
    asyncio.run(asyncio.wait_for(run_worker(concurrency=1, wait=False), timeout=30))

    with committed() as session:
        [sms] = session.scalars(select(Notification)).all()
        statuses = session.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE task_name = :name"),
            {"name": "notification.send"},
        ).scalars()
        assert list(statuses) == ["succeeded"]
    assert (sms.state, sms.provider) == (NotificationState.delivered, "outbox")
    outbox = client.get("/dev/outbox").text
    assert sms.body in outbox
    assert ">delivered<" in outbox
    match = re.search(r"验证码：(\d{6})", outbox)
    assert match is not None

    verified = client.post("/v1/otp/verify", json={"card": iccid, "code": match.group(1)})

    assert verified.status_code == 200
    with committed() as session:
        assert tokens.traveller_card_id(session, verified.json()["token"]) == card_id
