"""Dialogues are remembered for a while after their last request, then forgotten: an expired
one is purged when new dialogues start, and its id can start afresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.ussd.conftest import AtGateway, JsonGateway, count, create_ussd_card, create_ussd_plans
from tulpar import clock
from tulpar.models import UssdSession


def test_an_expired_dialogue_is_purged_when_another_starts(
    client: TestClient, session: Session, frozen_now: datetime
) -> None:
    plans = create_ussd_plans(session)
    first = create_ussd_card(session, plan=plans[0], language="en")
    second = create_ussd_card(session, plan=plans[0], language="en")
    session.commit()
    assert first.msisdn is not None
    assert second.msisdn is not None
    AtGateway(client, first.msisdn, session_id="old").dial()
    AtGateway(client, first.msisdn, session_id="old").send_text("1")

    with clock.frozen(frozen_now + timedelta(minutes=5, seconds=1)):
        late = AtGateway(client, first.msisdn, session_id="old").send_text("1*1")
        AtGateway(client, second.msisdn, session_id="new").dial()

    assert late == "END This session has ended. Please dial *100# again."
    session.expire_all()
    assert session.scalars(select(UssdSession.session_id)).all() == ["new"]


def test_each_request_keeps_the_dialogue_alive(
    client: TestClient, session: Session, frozen_now: datetime
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], language="en")
    session.commit()
    assert card.msisdn is not None
    gateway = JsonGateway(client, card.msisdn)
    gateway.send(None)

    with clock.frozen(frozen_now + timedelta(minutes=4)):
        listing = gateway.send("1")
    with clock.frozen(frozen_now + timedelta(minutes=8)):
        confirm = gateway.send("1")

    assert str(listing["text"]).startswith("Choose a plan:")
    assert str(confirm["text"]).startswith("Test\n3500 KZT, until ")
    assert count(session, UssdSession) == 1


def test_a_json_session_id_that_expired_starts_a_new_dialogue(
    client: TestClient, session: Session, frozen_now: datetime
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], language="en")
    session.commit()
    assert card.msisdn is not None
    gateway = JsonGateway(client, card.msisdn)
    gateway.send(None)
    gateway.send("1")

    with clock.frozen(frozen_now + timedelta(minutes=6)):
        again = gateway.send("1")

    assert str(again["text"]).startswith("Valid until ")  # the balance, not plan 1
    session.expire_all()
    dialogue = session.scalars(select(UssdSession)).one()
    assert dialogue.path == ""
