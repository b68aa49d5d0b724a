"""``/dev/ussd``: dial ``*100#`` as a demo card and walk the menu with plain forms (no
JavaScript), through the real Africa's Talking endpoint."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.ussd.conftest import create_ussd_card, create_ussd_plans
from tulpar.demo.seed import DEMO_CARDS
from tulpar.models import UssdSession


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match is not None, page
    return match.group(1)


def test_the_page_lists_the_demo_numbers(client: TestClient) -> None:
    page = client.get("/dev/ussd")

    assert page.status_code == 200
    assert all(card.msisdn in page.text for card in DEMO_CARDS)
    assert 'value="dial"' in page.text
    assert "<script" not in page.text


def test_dial_and_walk_the_menu_with_forms(client: TestClient, session: Session) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=500_00, language="en")
    session.commit()
    assert card.msisdn is not None

    dialled = client.post("/dev/ussd", data={"phone": card.msisdn, "action": "dial"}).text
    assert "Valid until" in dialled
    assert "CON · " in dialled  # the reply's kind and size are shown
    session_id = _hidden(dialled, "session_id")
    listing = client.post(
        "/dev/ussd",
        data={
            "phone": card.msisdn,
            "action": "send",
            "session_id": session_id,
            "path": _hidden(dialled, "path"),
            "entry": "1",
        },
    ).text
    assert "Choose a plan:" in listing
    assert _hidden(listing, "path") == "1"
    dialogue = session.scalars(select(UssdSession)).one()
    assert dialogue.session_id == session_id
    assert dialogue.path == "1"

    goodbye = client.post(
        "/dev/ussd",
        data={
            "phone": card.msisdn,
            "action": "send",
            "session_id": session_id,
            "path": "1",
            "entry": "00",
        },
    ).text
    exited = client.post(
        "/dev/ussd",
        data={
            "phone": card.msisdn,
            "action": "send",
            "session_id": session_id,
            "path": "1*00",
            "entry": "0",
        },
    ).text
    assert "Valid until" in goodbye
    assert "Thank you for using Tulpar." in exited
    assert "session ended" in exited
    assert 'value="dial"' in exited
