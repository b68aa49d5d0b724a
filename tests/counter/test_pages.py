"""The store console over HTTP: find, sell (CSRF, double submit), the thermal receipt, the
day close; another store's receipt is 404; the role matrix of the console's actions."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.counter.conftest import Counter, make_staff, make_store, sign_in_token
from tulpar.auth import roles
from tulpar.auth import service as auth_service
from tulpar.counter import days, lookup
from tulpar.counter import receipts as counter_receipts
from tulpar.errors import ForbiddenError
from tulpar.fulfilment import store_sale
from tulpar.models import AuditEntry, Order, Receipt
from tulpar.web.staff.session import COOKIE


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def key_of(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+-r)"', html)
    assert match is not None
    return match.group(1)


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_clerk_finds_sells_prints_and_closes(
    client: TestClient, session: Session, counter: Counter
) -> None:
    client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))
    found = client.get("/store", params={"q": counter.card.iccid}, follow_redirects=False)
    assert found.status_code == 303
    card_page = client.get(found.headers["location"])
    assert card_page.status_code == 200
    assert counter.plan.code in card_page.text
    assert 'data-test="new-validity"' in card_page.text
    form = {
        "csrf": csrf_of(card_page.text),
        "idempotency_key": key_of(card_page.text),
        "plan": counter.plan.code,
        "method": "cash",
    }
    url = f"/store/cards/{counter.card.id}/sell"
    sold = client.post(url, data=form, follow_redirects=False)
    assert sold.status_code == 303, sold.text
    again = client.post(url, data=form, follow_redirects=False)  # a double click
    assert again.headers["location"] == sold.headers["location"]
    assert count(session, Order) == 1
    receipt = client.get(sold.headers["location"])
    assert receipt.status_code == 200
    assert f"{counter.store.receipt_issuer}-000001" in receipt.text
    assert "Tulpar Retail LLP" in receipt.text
    assert "data-print" in receipt.text
    assert "Фискальн" in receipt.text  # the clerk's language (ru) beside the traveller's
    pdf = client.get(sold.headers["location"] + "/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    day = client.get("/store/day")
    assert "3 500" in day.text.replace("\u00a0", " ").replace("\u202f", " ")
    closed = client.post(
        "/store/day/close", data={"csrf": csrf_of(day.text), "day": ""}, follow_redirects=False
    )
    assert closed.status_code == 303
    closed_page = client.get(closed.headers["location"]).text
    assert 'data-test="day-state">закрыт<' in closed_page  # the clerk reads Russian
    assert 'data-test="expected-cash">' in closed_page


def test_sell_without_csrf_changes_nothing(
    client: TestClient, session: Session, counter: Counter
) -> None:
    client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))
    refused = client.post(
        f"/store/cards/{counter.card.id}/sell",
        data={"idempotency_key": "x", "plan": counter.plan.code, "method": "cash"},
    )
    assert refused.status_code == 403
    assert count(session, Order) == 0


def test_another_stores_receipt_is_not_found(
    client: TestClient, session: Session, counter: Counter
) -> None:
    sale = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="a",
    )
    other = make_staff(session, "clerk", make_store(session))
    with pytest.raises(roles.NotFoundError) as refused:
        counter_receipts.store_receipt(session, auth_service.staff(other), sale.receipt.public_id)
    assert getattr(refused.value, "status", None) == 404
    client.cookies.set(COOKIE, sign_in_token(session, other))
    assert client.get(f"/store/receipts/{sale.receipt.public_id}").status_code == 404
    assert client.get(f"/store/receipts/{sale.receipt.public_id}/pdf").status_code == 404
    assert client.get("/store/receipts/nonexistent").status_code == 404
    # Support and admin read every store's receipts.
    support = auth_service.staff(make_staff(session, "support", None))
    assert counter_receipts.store_receipt(session, support, sale.receipt.public_id)


# Each console action by role: allowed (True) or refused 403.
MATRIX = {
    "card.lookup": {"clerk": True, "store_manager": True, "support": True, "admin": True},
    "store.sell": {"clerk": True, "store_manager": True, "support": False, "admin": False},
    "store.day_close": {"clerk": True, "store_manager": True, "support": False, "admin": False},
    "store.day_reopen": {"clerk": False, "store_manager": True, "support": False, "admin": True},
}


@pytest.mark.parametrize("role", ["clerk", "store_manager", "support", "admin"])
@pytest.mark.parametrize("action", sorted(MATRIX))
def test_role_matrix_through_services(
    session: Session, counter: Counter, role: str, action: str
) -> None:
    user = make_staff(session, role, counter.store if role in ("clerk", "store_manager") else None)
    caller = auth_service.staff(user)
    allowed = MATRIX[action][role]
    before = (count(session, Order), count(session, AuditEntry), count(session, Receipt))

    def act() -> object:
        if action == "card.lookup":
            return lookup.find_card(session, caller, counter.card.iccid)
        if action == "store.sell":
            return store_sale.sell(
                session,
                caller,
                counter.card.iccid,
                plan_code=counter.plan.code,
                method="cash",
                idempotency_key="m",
            )
        if action == "store.day_close":
            return days.close(session, caller, day=days.business_date())
        # Reopen needs a closed day of the store.
        days.close(session, counter.caller, day=days.business_date())
        return days.reopen(
            session,
            caller,
            store_id=counter.store.id,
            day=days.business_date(),
            staff_id=counter.clerk.id,
            reason="recount",
        )

    if allowed:
        assert act() is not None
        return
    if action == "store.day_reopen":
        days.close(session, counter.caller, day=days.business_date())
        before = (count(session, Order), count(session, AuditEntry), count(session, Receipt))
        with pytest.raises(ForbiddenError):
            days.reopen(
                session,
                caller,
                store_id=counter.store.id,
                day=days.business_date(),
                staff_id=counter.clerk.id,
                reason="recount",
            )
    else:
        with pytest.raises(ForbiddenError):
            act()
    assert (count(session, Order), count(session, AuditEntry), count(session, Receipt)) == before


@pytest.mark.parametrize(
    ("role", "status"), [("clerk", 303), ("store_manager", 303), ("support", 403), ("admin", 403)]
)
def test_sell_over_http_by_role(
    client: TestClient, session: Session, counter: Counter, role: str, status: int
) -> None:
    user = make_staff(session, role, counter.store if role in ("clerk", "store_manager") else None)
    client.cookies.set(COOKIE, sign_in_token(session, user))
    # The form's token comes from the session (a refused role still has a session).
    from tulpar.staff import service as staff_service

    current = staff_service.signed_in(session, client.cookies.get(COOKIE))
    assert current is not None
    answer = client.post(
        f"/store/cards/{counter.card.id}/sell",
        data={
            "csrf": current.csrf_token,
            "idempotency_key": "h",
            "plan": counter.plan.code,
            "method": "cash",
        },
        follow_redirects=False,
    )
    assert answer.status_code == status, answer.text
    assert count(session, Order) == (1 if status == 303 else 0)
