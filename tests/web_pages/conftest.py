"""Helpers for the traveller pages: a browser-like client (cookies, forms with their CSRF
token) on the test's rolled-back transaction, and signing in as a card's traveller."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tulpar.app import create_app
from tulpar.kit.credentials import SESSION_COOKIE
from tulpar.models import Card, Notification
from tulpar.otp import service as otp_service

_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)">')


def hidden_fields(html: str, action: str | None = None) -> dict[str, str]:
    """The hidden inputs of the form posting to ``action`` (the first form if None)."""
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    for form_action, body in forms:
        if action is None or form_action == action:
            return {m["name"]: unescape(m["value"]) for m in _HIDDEN.finditer(body)}
    raise AssertionError(f"no form posting to {action!r} in the page")


def submit(client: TestClient, page: str, action: str, **fields: str) -> Response:
    """Open ``page`` and send its form for ``action`` with ``fields`` (like a browser)."""
    html = client.get(page).text
    answer: Response = client.post(action, data={**hidden_fields(html, action), **fields})
    return answer


def latest_code(session: Session, card_id: int) -> str:
    body = session.scalars(
        select(Notification.body)
        .where(Notification.card_id == card_id, Notification.template == "otp")
        .order_by(Notification.id.desc())
    ).first()
    assert body is not None, "no code was sent"
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None
    return match.group(1)


def sign_in(client: TestClient, session: Session, card: Card) -> None:
    """A traveller session for ``card`` as the SMS code gives it, without the forms."""
    otp_service.request_code(session, card.iccid, client_address="10.9.9.9")
    verified = otp_service.verify(session, card.iccid, latest_code(session, card.id))
    session.commit()
    client.cookies.set(SESSION_COOKIE, verified.token)


@pytest.fixture
def pages(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app on the test's transaction; redirects are not followed, so tests see them."""
    with TestClient(create_app(session_factory), follow_redirects=False) as client:
        yield client
