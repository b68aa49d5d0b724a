"""The renewal rate on a hand-counted fixture: validity ends in the period, which of them a
renewal replaced (before or after the end, whenever it came), which renewals came within 72 h
after a reminder SMS was sent; the CSV equal to the table; who may read it; and that applying
a plan records the validity end it replaced (migration 0021)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, create_plan
from tests.reports.builders import csv_rows, order, sms, table
from tests.reports.conftest import Settle
from tests.support_console.conftest import COOKIE, signed_in, staff
from tulpar import clock
from tulpar.bundle import service as bundle_service
from tulpar.errors import ForbiddenError
from tulpar.models import Bundle, BundleState, LedgerCause
from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.renewals import RenewalFigures
from tulpar.web.backoffice.reports.renewals_table import renewal_rows

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2))


def _utc(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def fixture_ends(session: Session) -> None:
    plan = create_plan(session).id

    def card(current_end: datetime) -> int:
        created = create_card(session)
        created.validity_ends_at = current_end
        session.flush()
        return created.id

    def renewal(
        card_id: int, *, replaced: datetime | None, at: datetime, by_order: bool = True
    ) -> None:
        placed = (
            order(session, card_id=card_id, at=at, amount_minor=350000, plan_id=plan)
            if by_order
            else None
        )
        session.add(
            Bundle(
                card_id=card_id,
                plan_id=plan,
                order_id=placed.id if placed else None,
                state=BundleState.active,
                starts_at=at,
                expires_at=at + timedelta(days=7),
                replaced_validity_ends_at=replaced,
                # Applied an hour after the order was placed (payment, provisioning).
                created_at=at + timedelta(hours=1),
            )
        )
        session.flush()

    # A (11-01 local): renewed before its end, 10 h after a reminder was sent.
    a = card(_utc(8, 6))
    sms(session, a, template="reminder_expiry", at=_utc(31, 10, month=10))
    renewal(a, replaced=_utc(1, 6), at=_utc(31, 20, month=10))
    # B (11-01): reminded, never renewed: its end is still the card's.
    b = card(_utc(1, 12))
    sms(session, b, template="reminder_expiry", at=_utc(30, 12, month=10))
    # C (11-02): renewed in the grace period after the period; its reminder was 4 days
    # before, and the SMS in the last 72 h was a code, not a reminder.
    c = card(_utc(10, 3))
    sms(session, c, template="reminder_expiry", at=_utc(30, 3, month=10))
    sms(session, c, template="otp", at=_utc(2, 3))
    renewal(c, replaced=_utc(2, 3), at=_utc(3, 3))
    # D (11-02): a plan applied without an order, before the end; the reminder never left
    # the queue.
    d = card(_utc(9, 10))
    sms(session, d, template="reminder_expiry", at=_utc(2, 7), sent=False)
    renewal(d, replaced=_utc(2, 10), at=_utc(2, 8), by_order=False)
    # H (11-02): renewed exactly 72 h after the reminder: outside the window.
    h = card(_utc(9, 12))
    sms(session, h, template="reminder_expiry", at=_utc(30, 9, month=10))
    renewal(h, replaced=_utc(2, 12), at=_utc(2, 9))
    # Outside: an end the local day after (still the card's), an end the local day before
    # (replaced), and a card's first plan (it replaced no end).
    card(_utc(2, 19))
    f = card(_utc(7, 12))
    renewal(f, replaced=datetime(2026, 10, 31, 18, 59, tzinfo=UTC), at=_utc(31, 10, month=10))
    g = card(_utc(8, 12))
    renewal(g, replaced=None, at=_utc(1, 12))


def test_exact_figures_per_day_and_total(
    session: Session, fixture_ends: None, settle_as: Settle
) -> None:
    settle_as(session)
    report = service.renewal_report(session, staff("support"), PERIOD)
    assert report.by_day == [
        (date(2026, 11, 1), RenewalFigures(2, 1, 1, 0, 1)),
        (date(2026, 11, 2), RenewalFigures(3, 3, 2, 1, 0)),
    ]
    assert report.total == RenewalFigures(5, 4, 3, 1, 1)
    assert str(report.total.renewal_rate) == "80.0"
    assert RenewalFigures().renewal_rate is None


def test_a_clerk_is_refused(session: Session) -> None:
    with pytest.raises(ForbiddenError):
        service.renewal_report(session, staff("clerk", store_id=1), PERIOD)
    assert service.renewal_report(session, staff("admin"), PERIOD).total == RenewalFigures()


def test_page_and_csv_show_the_same_rows(
    client: TestClient, session: Session, fixture_ends: None, settle_as: Settle
) -> None:
    settle_as(session)
    client.cookies.set(COOKIE, signed_in(session, "support").token)
    query = "?from=2026-11-01&until=2026-11-02"
    page = client.get("/backoffice/reports/renewals" + query)
    assert page.status_code == 200, page.text
    assert "<title>2026-11-01: 50</title>" in page.text
    exported = client.get("/backoffice/reports/renewals.csv" + query)
    assert exported.status_code == 200
    header, rows = csv_rows(exported.text)
    assert header[0] == "day"
    assert header[-1] == "renewal rate, per 100 ends"
    assert rows == table(page.text)
    assert rows == renewal_rows(service.renewal_report(session, staff("admin"), PERIOD))
    assert rows == [
        ["2026-11-01", "2", "1", "1", "0", "1", "50.0"],
        ["2026-11-02", "3", "3", "2", "1", "0", "100.0"],
        ["total", "5", "4", "3", "1", "1", "80.0"],
    ]


def test_pages_answer_a_clerk_403(client: TestClient, session: Session) -> None:
    client.cookies.set(COOKIE, signed_in(session, "clerk").token)
    assert client.get("/backoffice/reports/renewals").status_code == 403
    assert client.get("/backoffice/reports/renewals.csv").status_code == 403


def test_applying_a_plan_records_the_validity_end_it_replaced(session: Session) -> None:
    plan = create_plan(session, validity_days=7)
    card, first = create_active_card(session, plan=plan, days_ago=1)
    assert first.replaced_validity_ends_at is None
    ending = card.validity_ends_at
    assert ending is not None
    with clock.frozen(clock.now()):
        renewed = bundle_service.apply_plan(
            session, card, plan, cause=LedgerCause.manual_credit, actor="test", reason="test"
        )
    assert renewed.replaced_validity_ends_at == ending
    assert card.validity_ends_at is not None
    assert card.validity_ends_at > ending
