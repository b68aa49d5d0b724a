"""Whose store a day view or reopen is about: a clerk's or store manager's own (another
store's is 404), while support and admin, who have no store, pick one (support only reads)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.counter.conftest import Counter, make_staff, make_store, sign_in_token
from tulpar.auth import roles
from tulpar.auth import service as auth_service
from tulpar.counter import days
from tulpar.errors import ForbiddenError, InvalidInputError
from tulpar.fulfilment import store_sale
from tulpar.models import AuditEntry, DayClose, DayCloseState
from tulpar.web.staff.session import COOKIE


def audits(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def closed_day(session: Session, counter: Counter) -> DayClose:
    store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="day-1",
    )
    return days.close(session, counter.caller, day=days.business_date())


def test_store_staff_stay_in_their_store(session: Session, counter: Counter) -> None:
    manager = auth_service.staff(make_staff(session, "store_manager", counter.store))
    other = make_store(session)
    assert days.store_for(session, manager, None) == counter.store.id
    assert days.store_for(session, manager, counter.store.id) == counter.store.id
    with pytest.raises(roles.NotFoundError):
        days.store_for(session, manager, other.id)
    closed = closed_day(session, counter)
    outsider = auth_service.staff(make_staff(session, "store_manager", other))
    before = audits(session)
    with pytest.raises(roles.NotFoundError):
        days.reopen(
            session,
            outsider,
            store_id=counter.store.id,
            day=closed.business_date,
            staff_id=counter.clerk.id,
            reason="not mine",
        )
    session.refresh(closed)
    assert closed.state is DayCloseState.closed
    assert audits(session) == before


def test_admin_picks_the_store_and_reopens(session: Session, counter: Counter) -> None:
    admin = auth_service.staff(make_staff(session, "admin", None))
    with pytest.raises(InvalidInputError):
        days.store_for(session, admin, None)
    with pytest.raises(roles.NotFoundError):
        days.store_for(session, admin, 999_999)
    closed = closed_day(session, counter)
    store_id = days.store_for(session, admin, counter.store.id)
    figures, shown = days.view(
        session, admin, store_id=store_id, day=closed.business_date, staff_id=counter.clerk.id
    )
    assert shown is not None
    assert shown.id == closed.id
    assert figures["sales_minor"]["cash"] == 350_000
    reopened = days.reopen(
        session,
        admin,
        store_id=store_id,
        day=closed.business_date,
        staff_id=counter.clerk.id,
        reason="miscounted till",
    )
    assert reopened.state is DayCloseState.reopened
    assert "day.reopen" in session.scalars(select(AuditEntry.action)).all()


def test_support_reads_any_store_but_never_reopens(session: Session, counter: Counter) -> None:
    support = auth_service.staff(make_staff(session, "support", None))
    closed = closed_day(session, counter)
    store_id = days.store_for(session, support, counter.store.id)
    _, shown = days.view(
        session, support, store_id=store_id, day=closed.business_date, staff_id=None
    )
    assert shown is None  # the clerk's day is closed, not the store's
    before = audits(session)
    with pytest.raises(ForbiddenError):
        days.reopen(
            session,
            support,
            store_id=store_id,
            day=closed.business_date,
            staff_id=counter.clerk.id,
            reason="support",
        )
    session.refresh(closed)
    assert closed.state is DayCloseState.closed
    assert audits(session) == before


def test_admin_day_page_names_the_store(
    client: TestClient, session: Session, counter: Counter
) -> None:
    closed_day(session, counter)
    admin = make_staff(session, "admin", None)
    client.cookies.set(COOKIE, sign_in_token(session, admin))
    assert client.get("/store/day").status_code == 422  # which store?
    page = client.get("/store/day", params={"store": counter.store.id})
    assert page.status_code == 200
    assert "3 500" in page.text.replace("\u00a0", " ").replace("\u202f", " ")
    assert client.get("/store/day", params={"store": 999_999}).status_code == 404
