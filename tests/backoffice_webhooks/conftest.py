"""Back-office webhook page tests: the partner webhook fixtures (a loopback receiver, the
worker stand-in) and staff signed in through the forms, the clock held still meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.partner_webhook.conftest import (  # noqa: F401 (fixtures)
    Receiver,
    events_of,
    http,
    order_in_provisioning,
    partner_caller,
    receiver,
    settle,
    subscribe,
)
from tests.staff.conftest import cheap_password_hashing, make_store, make_user  # noqa: F401 (fixture)
from tests.staff.web import page_csrf, sign_in
from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.models import StaffUser
from tulpar.provisioning.settlement import Settled


@pytest.fixture(autouse=True)
def now() -> Iterator[datetime]:
    """Now, held still (to the second): retries fall due only when a test moves the clock,
    while the staff second factor still reads the real time."""
    moment = clock.now().replace(microsecond=0)
    with clock.frozen(moment):
        yield moment


@dataclass
class Sent:
    event_id: int
    public_id: str
    secret: str
    partner_id: int
    partner_name: str
    partner: Caller
    endpoint_id: int


def completed_order_event(session: Session, to: Receiver, name: str = "Partner A") -> Sent:
    """A partner's renewal completed: its ``order.completed`` event, committed."""
    caller = partner_caller(session, name)
    subscribed = subscribe(session, caller, to.url)
    plan = create_plan(session)
    card, _ = create_active_card(session, plan=plan, partner_id=caller.partner_id)
    order = order_in_provisioning(session, card=card, plan=plan, partner_id=caller.partner_id)
    assert settle(session, order, Settled.completed) is Settled.completed
    session.commit()
    [event] = events_of(session, caller.partner_id or 0)
    return Sent(
        event.id,
        event.public_id,
        subscribed.secret,
        caller.partner_id or 0,
        name,
        caller,
        subscribed.endpoint.id,
    )


def signed_in(client: TestClient, session: Session, role: str) -> tuple[StaffUser, str]:
    """A ``role`` user signed in (password, and TOTP when the role has it) in ``client``;
    returns it and the session's CSRF token (from the staff home)."""
    store = make_store(session, "ALA-77") if role in ("clerk", "store_manager") else None
    user = make_user(session, f"{role}-webhooks", role, store=store)
    session.commit()
    answer = sign_in(client, user.username, totp_secret=user.totp_secret)
    assert answer.status_code == 303, answer.text
    return user, page_csrf(client)
