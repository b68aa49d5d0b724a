"""The console over HTTP: each role against each action's form, CSRF on every form, and a
refused action changing nothing (its transaction rolls back)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support_console.conftest import COOKIE, ROLES, Recorded, Scene, rows, signed_in
from tulpar.models import LedgerEntry, Notification, Refund

SignIn = Callable[[str | None], str]


@pytest.fixture
def sign_in(client: TestClient, session: Session) -> SignIn:
    """Sign this client in as a new staff user of ``role`` (None: sign out); returns the
    session's CSRF token."""

    def as_role(role: str | None) -> str:
        client.cookies.clear()
        if role is None:
            return ""
        staff = signed_in(session, role)
        client.cookies.set(COOKIE, staff.token)
        return staff.csrf

    return as_role


def _csrf(client: TestClient, url: str) -> str:
    """The CSRF token as a page's form carries it."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


# (form url with {order}/{card}, fields, what changes when it is allowed)
ACTIONS = {
    "order.refund": ("/support/orders/{order}/refund", {"amount": "100"}),
    "card.credit_wallet": ("/support/cards/{card}/wallet", {"amount": "100"}),
    "card.adjust_allowance": ("/support/cards/{card}/allowance", {"account": "sms", "amount": "1"}),
    "card.suspend": ("/support/cards/{card}/suspend", {}),
    "card.change_language": ("/support/cards/{card}/language", {"language": "en"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_role_against_action_over_http(
    client: TestClient,
    session: Session,
    sign_in: SignIn,
    failed_order: Scene,
    audited: list[Recorded],
    role: str,
    action: str,
) -> None:
    url, fields = ACTIONS[action]
    url = url.format(order=failed_order.order.id, card=failed_order.card.id)
    csrf = sign_in(role)
    before = (rows(session, Refund), rows(session, LedgerEntry), rows(session, Notification))

    answer = client.post(
        url, data={**fields, "reason": "test", "csrf": csrf}, follow_redirects=False
    )

    if role in ("support", "admin"):
        assert answer.status_code == 303, answer.text
        assert [r.action for r in audited] == [action]
    else:
        assert answer.status_code == 403
        assert "may not do" in answer.text
        assert audited == []
        session.expire_all()
        assert (
            rows(session, Refund),
            rows(session, LedgerEntry),
            rows(session, Notification),
        ) == before
        assert failed_order.card.language == "zh-Hans"


def test_every_page_refuses_other_roles_and_strangers(
    client: TestClient, sign_in: SignIn, failed_order: Scene, audited: list[Recorded]
) -> None:
    pages = [
        "/support?q=" + failed_order.card.iccid,
        f"/support/orders/{failed_order.order.id}",
        f"/support/cards/{failed_order.card.id}",
        "/support/tickets",
    ]
    for role in ("support", "admin"):
        sign_in(role)
        assert [client.get(page).status_code for page in pages] == [200] * 4
    sign_in("clerk")
    assert [client.get(page).status_code for page in pages] == [403] * 4
    sign_in(None)
    answer = client.get(pages[0], follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/staff/sign-in")


def test_a_form_without_its_csrf_token_changes_nothing(
    client: TestClient,
    session: Session,
    sign_in: SignIn,
    failed_order: Scene,
    audited: list[Recorded],
) -> None:
    sign_in("support")
    answer = client.post(
        f"/support/orders/{failed_order.order.id}/refund",
        data={"reason": "x", "csrf": "forged"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert rows(session, Refund) == 0
    assert audited == []


def test_a_partial_refund_through_the_page_then_refunding_too_much(
    client: TestClient,
    session: Session,
    sign_in: SignIn,
    failed_order: Scene,
    audited: list[Recorded],
) -> None:
    sign_in("support")
    order_url = f"/support/orders/{failed_order.order.id}"
    csrf = _csrf(client, order_url)  # as the page's form carries it
    ok = client.post(
        order_url + "/refund", data={"amount": "100000", "reason": "part", "csrf": csrf}
    )
    assert ok.status_code == 200
    assert "2,500 KZT" in ok.text  # left to refund, on the order page it came back to
    too_much = client.post(
        order_url + "/refund", data={"amount": "250001", "reason": "more", "csrf": csrf}
    )
    assert too_much.status_code == 422
    assert rows(session, Refund) == 1
    assert len(audited) == 1
