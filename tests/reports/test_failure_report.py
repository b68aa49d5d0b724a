"""The failed and refunded orders on a hand-counted fixture: exact figures per state and
reason (the newest event into the current state), the money actually refunded, the CSV equal
to the table, and who may read it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, create_plan
from tests.reports.builders import csv_rows, order, refund, table
from tests.reports.conftest import Settle
from tests.support_console.conftest import COOKIE, signed_in, staff
from tulpar.errors import ForbiddenError
from tulpar.reports import service
from tulpar.reports.failures import FailureFigures, FailureRow
from tulpar.reports.period import Period
from tulpar.web.backoffice.reports.failures_table import failure_rows

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2))
NOV_1 = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 09:00 local
NOV_2 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)


@pytest.fixture
def fixture_failures(session: Session) -> None:
    card = create_card(session).id
    plan = create_plan(session).id

    def failed(at: datetime, amount: int, state: str, *reasons: str, **options: object) -> None:
        order(
            session,
            card_id=card,
            at=at,
            amount_minor=amount,
            plan_id=plan,
            state=state,
            paid=state in ("provisioning_failed", "refunded"),
            reasons=reasons,
            **options,  # type: ignore[arg-type]
        )

    failed(NOV_1, 350000, "payment_failed", "card declined")
    failed(NOV_2, 350000, "payment_failed", "card declined")
    # An earlier decline had another reason; the newest one counts.
    failed(NOV_1, 200000, "payment_failed", "timeout", "insufficient funds")
    failed(NOV_2, 350000, "expired", "Not paid within the payment window")
    failed(NOV_1, 900000, "provisioning_failed", "provisioning failed: carrier timeout")
    for refund_state in ("succeeded", "requested"):
        placed = order(
            session,
            card_id=card,
            at=NOV_2,
            amount_minor=700,
            currency="USD",
            plan_id=plan,
            state="refunded",
            reasons=["support: duplicate"],
        )
        refund(session, placed, 700, state=refund_state)
    # Not counted: a completed order; a decline the local day after.
    failed(NOV_2, 350000, "completed", "Payment received")
    failed(datetime(2026, 11, 2, 19, 0, tzinfo=UTC), 350000, "payment_failed", "card declined")


def test_exact_figures_per_state_and_reason(
    session: Session, fixture_failures: None, settle_as: Settle
) -> None:
    settle_as(session)
    report = service.failure_report(session, staff("support"), PERIOD)
    assert report.rows == [
        FailureRow(
            "expired", "Not paid within the payment window", "KZT", FailureFigures(1, 350000, 0)
        ),
        FailureRow("expired", None, "KZT", FailureFigures(1, 350000, 0)),
        FailureRow("payment_failed", "card declined", "KZT", FailureFigures(2, 700000, 0)),
        FailureRow("payment_failed", "insufficient funds", "KZT", FailureFigures(1, 200000, 0)),
        FailureRow("payment_failed", None, "KZT", FailureFigures(3, 900000, 0)),
        FailureRow(
            "provisioning_failed",
            "provisioning failed: carrier timeout",
            "KZT",
            FailureFigures(1, 900000, 0),
        ),
        FailureRow("provisioning_failed", None, "KZT", FailureFigures(1, 900000, 0)),
        FailureRow("refunded", "support: duplicate", "USD", FailureFigures(2, 1400, 700)),
        FailureRow("refunded", None, "USD", FailureFigures(2, 1400, 700)),
    ]
    assert report.by_day == [(date(2026, 11, 1), 3), (date(2026, 11, 2), 4)]
    assert report.total_orders == 7


def test_a_clerk_is_refused(session: Session) -> None:
    with pytest.raises(ForbiddenError):
        service.failure_report(session, staff("clerk", store_id=1), PERIOD)
    assert service.failure_report(session, staff("admin"), PERIOD).total_orders == 0


def test_page_and_csv_show_the_same_rows(
    client: TestClient, session: Session, fixture_failures: None, settle_as: Settle
) -> None:
    settle_as(session)
    client.cookies.set(COOKIE, signed_in(session, "admin").token)
    query = "?from=2026-11-01&until=2026-11-02"
    page = client.get("/backoffice/reports/failures" + query)
    assert page.status_code == 200, page.text
    assert page.text.count("<rect ") == 2
    exported = client.get("/backoffice/reports/failures.csv" + query)
    assert exported.status_code == 200
    header, rows = csv_rows(exported.text)
    assert header == ["state", "reason", "currency", "orders", "amount", "refunded"]
    assert rows == table(page.text)
    assert rows == failure_rows(service.failure_report(session, staff("admin"), PERIOD))
    assert rows[4] == ["payment_failed", "total", "KZT", "3", "9000.00", "0.00"]
    assert rows[-2:] == [
        ["refunded", "total", "USD", "2", "14.00", "7.00"],
        ["total", "", "", "7", "", ""],
    ]


def test_pages_answer_a_clerk_403(client: TestClient, session: Session) -> None:
    client.cookies.set(COOKIE, signed_in(session, "clerk").token)
    assert client.get("/backoffice/reports/failures").status_code == 403
    assert client.get("/backoffice/reports/failures.csv").status_code == 403
