"""Every role against every staff action (users, stores, audit), through the services and
through HTTP; another store's things are "not found" (404), and nothing changes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.staff.conftest import PASSWORD, ROLES, Team, make_user
from tests.staff.web import page_csrf, sign_in
from tulpar.audit import service as audit_service
from tulpar.auth import roles
from tulpar.auth import service as auth_service
from tulpar.errors import ForbiddenError
from tulpar.models import AuditEntry, StaffUser, Store
from tulpar.staff import service as staff_service
from tulpar.store import service as store_service

# The table, written out (not derived from roles.ROLES_FOR, which it checks).
ALLOWED: dict[str, set[str]] = {
    "staff.home": {"clerk", "store_manager", "support", "admin"},
    "users.list": {"store_manager", "admin"},
    "users.create": {"store_manager", "admin"},
    "users.disable": {"store_manager", "admin"},
    "users.revoke_sessions": {"store_manager", "admin"},
    "stores.list": {"admin"},
    "stores.view": {"clerk", "store_manager", "support", "admin"},
    "stores.create": {"admin"},
    "audit.read": {"support", "admin"},
}
_serial = itertools.count(10)


def _target(session: Session, team: Team) -> StaffUser:
    return make_user(session, f"target-{next(_serial)}", "clerk", store=team.store)


ACTIONS: dict[str, Callable[[Session, Any, Team, StaffUser], object]] = {
    "staff.home": lambda session, caller, team, target: roles.require(caller, "staff.home"),
    "users.list": lambda session, caller, team, target: staff_service.list_users(session, caller),
    "users.create": lambda session, caller, team, target: staff_service.create_user(
        session,
        caller,
        username=f"new-{next(_serial)}",
        password=PASSWORD,
        role="clerk",
        store_id=team.store.id,
    ),
    "users.disable": lambda session, caller, team, target: staff_service.disable_user(
        session, caller, target.id, reason="test"
    ),
    "users.revoke_sessions": lambda session, caller, team, target: staff_service.revoke_sessions(
        session, caller, target.id, reason="test"
    ),
    "stores.list": lambda session, caller, team, target: store_service.list_stores(session, caller),
    "stores.view": lambda session, caller, team, target: store_service.get_store(
        session, caller, team.store.id
    ),
    "stores.create": lambda session, caller, team, target: store_service.create_store(
        session,
        caller,
        code=f"KAR-{next(_serial)}",
        name="Karaganda",
        city="Karaganda",
        address="Bukhar-Zhyrau 1",
        opening_hours="10–20",
        legal_name="LLP",
        bin="123456789012",
    ),
    "audit.read": lambda session, caller, team, target: audit_service.list_for(session, caller),
}


def test_the_table_is_the_role_table() -> None:
    assert set(ACTIONS) == set(ALLOWED)
    for action, allowed in ALLOWED.items():
        assert roles.ROLES_FOR[action] == allowed, action


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_service_role_against_action(session: Session, team: Team, role: str, action: str) -> None:
    caller = team.caller(role)
    target = _target(session, team)  # a clerk of the caller's store to act on
    if role in ALLOWED[action]:
        ACTIONS[action](session, caller, team, target)
        return
    audited = _count(session, AuditEntry)
    with pytest.raises(ForbiddenError):
        ACTIONS[action](session, caller, team, target)
    session.expire_all()
    assert _count(session, AuditEntry) == audited


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_a_traveller_and_a_partner_may_do_none_of_it(action: str) -> None:
    assert not roles.may(auth_service.traveller(1), action)


# What each page answers a role it allows (GET 200, a form 303) and one it does not (403).
PAGES = [
    ("GET", "/staff/", "staff.home", None),
    ("GET", "/staff/users", "users.list", None),
    ("GET", "/staff/stores", "stores.list", None),
    ("GET", "/staff/audit", "audit.read", None),
    ("POST", "/staff/users", "users.create",
     {"username": "made-over-http", "password": PASSWORD, "role": "clerk"}),
    ("POST", "/staff/stores", "stores.create",
     {"code": "SHY-07", "name": "Shymkent", "city": "Shymkent", "address": "Tauke Khan 3",
      "opening_hours": "9–18", "legal_name": "LLP", "bin": "123456789012"}),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_http_role_against_every_page(
    client: TestClient, session: Session, team: Team, role: str
) -> None:
    user = team.users[role]
    store_field = {"store_id": str(team.store.id)}
    session.commit()
    assert sign_in(client, user.username, totp_secret=user.totp_secret).status_code == 303
    csrf = page_csrf(client)
    for method, path, action, form in PAGES:
        allowed = role in ALLOWED[action]
        if method == "GET":
            response = client.get(path)
            assert response.status_code == (200 if allowed else 403), (role, path)
            continue
        before = (_count(session, StaffUser), _count(session, Store))
        data = {**(form or {}), "csrf": csrf}
        if path == "/staff/users" and role == "admin":
            data.update(store_field)
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == (303 if allowed else 403), (role, path)
        session.expire_all()
        if not allowed:
            assert (_count(session, StaffUser), _count(session, Store)) == before


def test_another_stores_user_and_store_are_not_found(
    client: TestClient, session: Session, team: Team
) -> None:
    manager = team.caller("store_manager")
    with pytest.raises(roles.NotFoundError):
        staff_service.disable_user(session, manager, team.other_clerk.id, reason="x")
    with pytest.raises(roles.NotFoundError):
        staff_service.revoke_sessions(session, manager, team.users["admin"].id, reason="x")
    with pytest.raises(roles.NotFoundError):
        store_service.get_store(session, team.caller("clerk"), team.other_store.id)
    with pytest.raises(roles.NotFoundError):
        staff_service.create_user(
            session, manager, username="sneaky", password=PASSWORD, role="clerk",
            store_id=team.other_store.id,
        )  # fmt: skip
    with pytest.raises(ForbiddenError):  # a manager never makes support or admin users
        staff_service.create_user(
            session, manager, username="sneaky", password=PASSWORD, role="admin"
        )
    assert team.other_clerk.disabled_at is None
    assert store_service.get_store(session, team.caller("support"), team.other_store.id)

    session.commit()
    sign_in(client, "store_manager-1")
    csrf = page_csrf(client)
    audited = _count(session, AuditEntry)
    response = client.post(
        f"/staff/users/{team.other_clerk.id}/disable", data={"reason": "x", "csrf": csrf}
    )
    assert response.status_code == 404
    assert (
        client.post(
            f"/staff/users/{team.other_clerk.id}/revoke", data={"reason": "x", "csrf": csrf}
        ).status_code
        == 404
    )
    session.expire_all()
    assert team.other_clerk.disabled_at is None
    assert _count(session, AuditEntry) == audited
    listed = client.get("/staff/users").text
    assert "clerk-2" not in listed
    assert "clerk-1" in listed
