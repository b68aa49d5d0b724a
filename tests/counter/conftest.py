"""Store console tests: a store with its clerk, a card to sell to, a 15-day plan sold on the
store channel, and helpers to run the counter's jobs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.models import Card, Channel, Plan, StaffUser, Store
from tulpar.staff import service as staff_service
from tulpar.store import service as store_service

PASSWORD = "correct horse battery"
_numbers = itertools.count(11)


def make_store(session: Session, *, legal_name: str = "Tulpar Retail LLP") -> Store:
    number = next(_numbers)
    return store_service.create_store(
        session,
        auth_service.command_line(),
        code=f"ALA-{number:02d}",
        name=f"Tulpar Almaty {number}",
        city="Almaty",
        address="Abay Ave 1",
        opening_hours="09:00–21:00",
        legal_name=legal_name,
        bin="123456789012",
    )


def make_staff(
    session: Session, role: str, store: Store | None, *, language: str = "ru"
) -> StaffUser:
    user = staff_service.create_user(
        session,
        auth_service.command_line(),
        username=f"{role}-{next(_numbers)}",
        password=PASSWORD,
        role=role,
        store_id=None if store is None else store.id,
        language=language,
    )
    return user


@dataclass
class Counter:
    store: Store
    clerk: StaffUser
    caller: Caller
    card: Card
    plan: Plan


def build_counter(session: Session) -> Counter:
    store = make_store(session)
    clerk = make_staff(session, "clerk", store)
    plan = create_plan(
        session,
        code=f"KZ-15D-ST{next(_numbers)}",
        validity_days=15,
        channels=(Channel.store, Channel.web),
        prices_minor={"KZT": 350_000},
    )
    card, _ = create_active_card(session, plan=plan, language="zh-Hans")
    return Counter(store=store, clerk=clerk, caller=auth_service.staff(clerk), card=card, plan=plan)


@pytest.fixture
def counter(session: Session) -> Counter:
    return build_counter(session)


@pytest.fixture
def committed_counter(committed: sessionmaker[Session]) -> Iterator[Counter]:
    with committed() as session:
        scene = build_counter(session)
        session.commit()
        yield scene


def sign_in_token(session: Session, user: StaffUser) -> str:
    """A complete staff session for ``user`` (password, and TOTP for support and admin)."""
    import pyotp

    result = staff_service.sign_in(session, user.username, PASSWORD)
    assert result.token is not None
    current = staff_service.signed_in(session, result.token)
    assert current is not None
    if not current.complete:
        assert user.totp_secret is not None
        assert staff_service.second_factor(session, current, pyotp.TOTP(user.totp_secret).now())
    session.flush()
    return result.token
