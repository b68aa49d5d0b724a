"""The revenue report on a hand-counted fixture: exact figures per channel, plan, store, day
and currency (paid orders less their succeeded refunds), the CSV equal to the table, and who
may read it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, create_plan
from tests.reports.builders import csv_rows, order, refund, store_sale, table
from tests.reports.conftest import Settle
from tests.support_console.conftest import COOKIE, signed_in, staff
from tulpar.errors import ForbiddenError
from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.revenue import RevenueFigures, RevenueRow
from tulpar.web.backoffice.reports.revenue_table import revenue_rows

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2))
# Local days (UTC+5): 2026-11-01 is 10-31 19:00 .. 11-01 19:00 UTC.
FIRST_DAY_OPENS = datetime(2026, 10, 31, 19, 0, tzinfo=UTC)


@pytest.fixture
def fixture_orders(session: Session) -> None:
    card = create_card(session).id
    week = create_plan(session, code="REP-7D").id
    month = create_plan(session, code="REP-30D").id
    clerk = signed_in(session, "clerk").user.id
    order(session, card_id=card, at=FIRST_DAY_OPENS, amount_minor=350000, plan_id=week)
    at_store = order(
        session,
        card_id=card,
        at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
        amount_minor=900000,
        plan_id=month,
        channel="store",
    )
    store_sale(session, at_store, store_code="REP-01", staff_id=clerk)
    refund(session, at_store, 100000)
    refund(session, at_store, 50000, state="failed")  # no money went back
    order(
        session,
        card_id=card,
        at=datetime(2026, 11, 2, 5, 0, tzinfo=UTC),
        amount_minor=200000,
        channel="api",
    )
    refunded = order(
        session,
        card_id=card,
        at=datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
        amount_minor=700,
        currency="USD",
        plan_id=week,
        state="refunded",
    )
    refund(session, refunded, 700)
    # Not counted: never paid; placed the local day after; placed the local day before.
    order(
        session,
        card_id=card,
        at=datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
        amount_minor=350000,
        plan_id=week,
        state="payment_failed",
        paid=False,
    )
    order(
        session,
        card_id=card,
        at=datetime(2026, 11, 2, 19, 0, tzinfo=UTC),
        amount_minor=350000,
        plan_id=week,
    )
    order(
        session,
        card_id=card,
        at=datetime(2026, 10, 31, 18, 59, tzinfo=UTC),
        amount_minor=350000,
        plan_id=week,
    )


def test_exact_figures_per_breakdown_day_and_currency(
    session: Session, fixture_orders: None, settle_as: Settle
) -> None:
    settle_as(session)
    report = service.revenue_report(session, staff("support"), PERIOD)

    assert report.rows == [
        RevenueRow("channel", "api", "KZT", RevenueFigures(1, 200000, 0)),
        RevenueRow("channel", "store", "KZT", RevenueFigures(1, 900000, 100000)),
        RevenueRow("channel", "web", "KZT", RevenueFigures(1, 350000, 0)),
        RevenueRow("channel", "web", "USD", RevenueFigures(1, 700, 700)),
        RevenueRow("plan", "REP-30D", "KZT", RevenueFigures(1, 900000, 100000)),
        RevenueRow("plan", "REP-7D", "KZT", RevenueFigures(1, 350000, 0)),
        RevenueRow("plan", None, "KZT", RevenueFigures(1, 200000, 0)),
        RevenueRow("plan", "REP-7D", "USD", RevenueFigures(1, 700, 700)),
        RevenueRow("store", "REP-01", "KZT", RevenueFigures(1, 900000, 100000)),
        RevenueRow("store", None, "KZT", RevenueFigures(2, 550000, 0)),
        RevenueRow("store", None, "USD", RevenueFigures(1, 700, 700)),
    ]
    assert report.by_day == {
        "KZT": [
            (date(2026, 11, 1), RevenueFigures(2, 1250000, 100000)),
            (date(2026, 11, 2), RevenueFigures(1, 200000, 0)),
        ],
        "USD": [
            (date(2026, 11, 1), RevenueFigures()),
            (date(2026, 11, 2), RevenueFigures(1, 700, 700)),
        ],
    }
    assert report.totals == {
        "KZT": RevenueFigures(3, 1450000, 100000),
        "USD": RevenueFigures(1, 700, 700),
    }
    assert report.totals["KZT"].net_minor == 1350000
    assert report.chart_currency() == "KZT"


def test_a_clerk_and_a_store_manager_are_refused(session: Session) -> None:
    for role in ("clerk", "store_manager"):
        with pytest.raises(ForbiddenError):
            service.revenue_report(session, staff(role, store_id=1), PERIOD)
    assert service.revenue_report(session, staff("admin"), PERIOD).totals == {}


def test_page_and_csv_show_the_same_rows(
    client: TestClient, session: Session, fixture_orders: None, settle_as: Settle
) -> None:
    settle_as(session)
    client.cookies.set(COOKIE, signed_in(session, "support").token)
    query = "?from=2026-11-01&until=2026-11-02"
    page = client.get("/backoffice/reports/revenue" + query)
    assert page.status_code == 200, page.text
    assert page.text.count("<rect ") == 2  # the KZT days
    assert "<title>2026-11-01 KZT: 11500</title>" in page.text
    exported = client.get("/backoffice/reports/revenue.csv" + query)
    assert exported.status_code == 200
    assert (
        exported.headers["content-disposition"]
        == 'attachment; filename="revenue-2026-11-01-2026-11-02.csv"'
    )
    header, rows = csv_rows(exported.text)
    assert header == ["by", "key", "currency", "orders", "gross", "refunded", "net"]
    assert rows == table(page.text)
    assert rows == revenue_rows(service.revenue_report(session, staff("admin"), PERIOD))
    assert rows[1] == ["channel", "store", "KZT", "1", "9000.00", "1000.00", "8000.00"]
    assert rows[6] == ["plan", "wallet top-up", "KZT", "1", "2000.00", "0.00", "2000.00"]
    assert rows[-2:] == [
        ["total", "", "KZT", "3", "14500.00", "1000.00", "13500.00"],
        ["total", "", "USD", "1", "7.00", "7.00", "0.00"],
    ]


def test_pages_answer_a_clerk_403(client: TestClient, session: Session) -> None:
    client.cookies.set(COOKIE, signed_in(session, "clerk").token)
    assert client.get("/backoffice/reports/revenue").status_code == 403
    assert client.get("/backoffice/reports/revenue.csv").status_code == 403


def test_the_page_reads_in_russian(client: TestClient, session: Session) -> None:
    reader = signed_in(session, "admin")
    reader.user.language = "ru"
    session.flush()
    client.cookies.set(COOKIE, reader.token)
    page = client.get("/backoffice/reports/revenue")
    assert page.status_code == 200
    assert "<h1>Выручка</h1>" in page.text
    assert "<th>возвращено</th>" in page.text
