"""The staff pages over HTTP: sign-in with lockout and TOTP, sessions that end, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.staff.conftest import PASSWORD, Team
from tests.staff.web import csrf_of, page_csrf, sign_in
from tulpar import clock
from tulpar.models import AuditEntry, StaffSession, StaffUser
from tulpar.web.staff.session import COOKIE, StaffSessionMiddleware


@pytest.fixture
def saved(session: Session, team: Team) -> Team:
    session.commit()
    return team


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_clerk_signs_in_and_sees_the_store_console_link(client: TestClient, saved: Team) -> None:
    response = sign_in(client, "clerk-1")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie.replace("Strict", "strict")
    home = client.get("/staff/")
    assert home.status_code == 200
    assert 'href="/store/"' in home.text
    assert 'href="/support/"' not in home.text
    assert "/static/traveller.css" in home.text  # the traveller pages' layout and CSS


def test_support_home_links_the_back_office_parts_it_may_read_and_each_opens(
    client: TestClient, saved: Team
) -> None:
    user = saved.users["support"]
    assert sign_in(client, user.username, totp_secret=user.totp_secret).status_code == 303
    home = client.get("/staff/")
    for path in ("/support/", "/staff/audit", "/backoffice/reports", "/backoffice/webhooks"):
        assert f'href="{path}"' in home.text
        assert client.get(path).status_code == 200, path
    for path in ("/backoffice/promotions", "/staff/stores"):  # an admin's, not support's
        assert f'href="{path}"' not in home.text


def test_wrong_password_and_unknown_user_get_the_same_answer_and_lock(
    client: TestClient, session: Session, saved: Team
) -> None:
    answers = [sign_in(client, "clerk-1", "wrong password") for _ in range(5)]
    unknown = sign_in(client, "nobody-at-all", "wrong password")
    locked = sign_in(client, "clerk-1", PASSWORD)  # right password, but locked
    for response in [*answers, unknown, locked]:
        assert response.status_code == 401
        assert "Wrong username or password, or the account is locked" in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")
    session.expire_all()
    assert saved.users["clerk"].locked_until is not None
    assert _count(session, StaffSession) == 0


@pytest.mark.parametrize("role", ["admin", "support"])
def test_admin_and_support_cannot_get_in_without_the_code(
    client: TestClient, session: Session, saved: Team, role: str
) -> None:
    user = saved.users[role]
    response = sign_in(client, user.username)
    assert response.headers["location"] == "/staff/second-factor"
    # The password alone opens nothing.
    for path in ("/staff/", "/staff/audit", "/staff/users"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"] == "/staff/sign-in"
    step = client.get("/staff/second-factor")
    assert "<svg" in step.text  # first time: the QR code to scan
    wrong = client.post("/staff/second-factor", data={"code": "000000", "csrf": csrf_of(step)})
    assert wrong.status_code == 401
    client.cookies.clear()
    response = sign_in(client, user.username, totp_secret=user.totp_secret)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/"
    assert client.get("/staff/audit").status_code == 200


def test_an_expired_or_revoked_session_is_refused(
    client: TestClient, session: Session, saved: Team
) -> None:
    start = clock.now()
    with clock.frozen(start):
        sign_in(client, "clerk-1")
        assert client.get("/staff/").status_code == 200
    with clock.frozen(start + timedelta(minutes=31)):
        refused = client.get("/staff/", follow_redirects=False)
        assert refused.headers["location"] == "/staff/sign-in"
    client.cookies.clear()
    sign_in(client, "clerk-1")
    assert client.get("/staff/").status_code == 200
    admin = saved.users["admin"]
    other = TestClient(client.app)
    sign_in(other, admin.username, totp_secret=admin.totp_secret)
    revoked = other.post(
        f"/staff/users/{saved.users['clerk'].id}/revoke",
        data={"reason": "lost tablet", "csrf": page_csrf(other, "/staff/users")},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    refused = client.get("/staff/", follow_redirects=False)
    assert refused.headers["location"] == "/staff/sign-in"
    (entry,) = [
        entry
        for entry in session.scalars(select(AuditEntry))
        if entry.action == "users.revoke_sessions"
    ]
    assert (entry.reason, entry.actor) == ("lost tablet", f"staff:{admin.username}")


def test_sign_out_ends_the_session_on_the_server(client: TestClient, saved: Team) -> None:
    sign_in(client, "clerk-1")
    token = client.cookies.get(COOKIE)
    client.post("/staff/sign-out", data={"csrf": page_csrf(client)})
    client.cookies.set(COOKIE, token or "")
    assert client.get("/staff/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    client: TestClient, session: Session, saved: Team, csrf: str | None
) -> None:
    sign_in(client, "store_manager-1")
    users_before = _count(session, StaffUser)
    audit_before = _count(session, AuditEntry)
    data = {"username": "new-clerk", "password": PASSWORD, "role": "clerk"}
    if csrf is not None:
        data["csrf"] = csrf
    response = client.post("/staff/users", data=data, follow_redirects=False)
    assert response.status_code == 403
    session.expire_all()
    assert _count(session, StaffUser) == users_before
    assert _count(session, AuditEntry) == audit_before
    # With the token it works, at the manager's own store.
    response = client.post(
        "/staff/users",
        data={**data, "csrf": page_csrf(client, "/staff/users")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    created = session.scalars(select(StaffUser).where(StaffUser.username == "new-clerk")).one()
    assert created.store_id == saved.store.id


def test_a_form_from_another_site_is_refused(client: TestClient, saved: Team) -> None:
    sign_in(client, "store_manager-1")
    response = client.post(
        "/staff/users",
        data={"username": "x-clerk", "password": PASSWORD, "role": "clerk",
              "csrf": page_csrf(client, "/staff/users")},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )  # fmt: skip
    assert response.status_code == 403


def test_pages_follow_the_staff_users_language(
    client: TestClient, session: Session, saved: Team
) -> None:
    saved.users["clerk"].language = "ru"
    session.commit()
    sign_in(client, "clerk-1")
    home = client.get("/staff/")
    assert 'lang="ru"' in home.text
    assert "Касса магазина" in home.text


def test_the_consoles_see_the_signed_in_caller_on_request_state(
    client: TestClient, session_factory: sessionmaker[Session], saved: Team
) -> None:
    seen: list[object] = []
    console = FastAPI()
    console.state.sessionmaker = session_factory
    console.add_middleware(StaffSessionMiddleware)

    @console.get("/support/probe")
    def probe(request: Request) -> dict[str, str]:
        seen.append(getattr(request.state, "staff", None))
        return {}

    sign_in(client, "clerk-1")
    probing = TestClient(console)
    probing.get("/support/probe")
    probing.cookies.set(COOKIE, client.cookies.get(COOKIE) or "")
    probing.get("/support/probe")
    assert seen[0] is None
    assert getattr(seen[1], "actor", None) == "staff:clerk-1"
