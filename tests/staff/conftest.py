"""Staff tests: stores and users made through the services, callers from real users."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.models import StaffUser, Store
from tulpar.staff import passwords
from tulpar.staff import service as staff_service
from tulpar.store import service as store_service

PASSWORD = "correct horse battery"
ROLES = ("clerk", "store_manager", "support", "admin")


def make_store(session: Session, code: str = "ALA-01") -> Store:
    return store_service.create_store(
        session,
        auth_service.command_line(),
        code=code,
        name=f"Tulpar {code}",
        city="Almaty",
        address="Abay Ave 1",
        opening_hours="Mon–Sun 09:00–21:00",
        legal_name="Tulpar Retail LLP",
        bin="123456789012",
    )


def make_user(
    session: Session, username: str, role: str, *, store: Store | None = None
) -> StaffUser:
    return staff_service.create_user(
        session,
        auth_service.command_line(),
        username=username,
        password=PASSWORD,
        role=role,
        store_id=store.id if store is not None and role in ("clerk", "store_manager") else None,
    )


def code_for(user: StaffUser) -> str:
    assert user.totp_secret is not None
    return pyotp.TOTP(user.totp_secret).now()


@dataclass
class Team:
    store: Store
    other_store: Store
    users: dict[str, StaffUser]  # by role, at ``store``
    other_clerk: StaffUser

    def caller(self, role: str) -> Caller:
        return auth_service.staff(self.users[role])


@pytest.fixture
def team(session: Session) -> Team:
    store = make_store(session, "ALA-01")
    other = make_store(session, "AST-02")
    users = {role: make_user(session, f"{role}-1", role, store=store) for role in ROLES}
    return Team(
        store=store,
        other_store=other,
        users=users,
        other_clerk=make_user(session, "clerk-2", "clerk", store=other),
    )


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with the smallest work factors: the tests exercise the logic, not the cost
    (production keeps argon2-cffi's defaults)."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    passwords._dummy_hash.cache_clear()
