"""The SMS report on a hand-counted fixture: exact figures per provider and per local day,
the CSV equal to the table, the period's refusals, and who may read it."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card
from tests.reports.conftest import Settle
from tests.support_console.conftest import COOKIE, signed_in, staff
from tulpar.errors import ForbiddenError
from tulpar.models import Notification, NotificationState
from tulpar.reports import service
from tulpar.reports.period import Period, ReportPeriodInvalidError, parse
from tulpar.reports.sms import SmsFigures
from tulpar.web.backoffice.reports.sms_table import sms_rows

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2))


def _sms(
    session: Session,
    card_id: int,
    n: int,
    *,
    at: datetime,
    state: str,
    provider: str | None,
    segments: int = 1,
) -> None:
    sent = state != "queued"
    session.add(
        Notification(
            card_id=card_id,
            template="otp",
            language="en",
            recipient="+77010000000",
            body="x",
            encoding="gsm7",
            segment_count=segments,
            dedupe_key=f"test:{n}",
            state=NotificationState(state),
            provider=provider,
            sent_at=at if sent else None,
            created_at=at,
        )
    )


@pytest.fixture
def fixture_sms(session: Session) -> None:
    card = create_card(session)
    # 2026-11-01 local (UTC+5) runs from 2026-10-31 19:00 UTC.
    _sms(
        session,
        card.id,
        1,
        at=datetime(2026, 10, 31, 19, 0, tzinfo=UTC),
        state="delivered",
        provider="smpp",
        segments=2,
    )
    _sms(
        session,
        card.id,
        2,
        at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
        state="failed",
        provider="smpp",
    )
    _sms(
        session,
        card.id,
        3,
        at=datetime(2026, 11, 1, 20, 0, tzinfo=UTC),
        state="sent",
        provider="http",
    )
    _sms(
        session,
        card.id,
        4,
        at=datetime(2026, 11, 2, 18, 59, tzinfo=UTC),
        state="queued",
        provider=None,
    )
    # Outside: the local day before, and the local day after.
    _sms(
        session,
        card.id,
        5,
        at=datetime(2026, 10, 31, 18, 59, tzinfo=UTC),
        state="delivered",
        provider="smpp",
    )
    _sms(
        session,
        card.id,
        6,
        at=datetime(2026, 11, 2, 19, 0, tzinfo=UTC),
        state="delivered",
        provider="smpp",
    )
    session.flush()


def test_exact_figures_by_provider_day_and_total(
    session: Session, fixture_sms: None, settle_as: Settle
) -> None:
    settle_as(session)
    report = service.sms_report(session, staff("support"), PERIOD)
    assert report.by_provider == [
        ("http", SmsFigures(messages=1, segments=1, sent=1, delivered=0, failed=0, queued=0)),
        ("smpp", SmsFigures(messages=2, segments=3, sent=2, delivered=1, failed=1, queued=0)),
        (None, SmsFigures(messages=1, segments=1, sent=0, delivered=0, failed=0, queued=1)),
    ]
    assert report.by_day == [
        (date(2026, 11, 1), SmsFigures(2, 3, 2, 1, 1, 0)),
        (date(2026, 11, 2), SmsFigures(2, 2, 1, 0, 0, 1)),
    ]
    assert report.total == SmsFigures(4, 5, 3, 1, 1, 1)


def test_a_clerk_is_refused_and_support_and_admin_read(session: Session) -> None:
    with pytest.raises(ForbiddenError):
        service.sms_report(session, staff("clerk", store_id=1), PERIOD)
    with pytest.raises(ForbiddenError):
        service.sms_report(session, staff("store_manager", store_id=1), PERIOD)
    for role in ("support", "admin"):
        assert service.sms_report(session, staff(role), PERIOD).total == SmsFigures()


def test_period_defaults_to_the_last_30_local_days_and_refuses_bad_ranges() -> None:
    # 20:00 UTC is already the next day in Almaty.
    now = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert parse(None, None, now=now) == Period(date(2026, 11, 2), date(2026, 12, 1))
    assert PERIOD.starts_at == datetime(2026, 10, 31, 19, 0, tzinfo=UTC)
    assert PERIOD.ends_at == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)
    for first, last in (
        ("2026-13-01", None),
        ("2026-11-05", "2026-11-04"),
        ("2025-01-01", "2026-11-04"),
    ):
        with pytest.raises(ReportPeriodInvalidError):
            parse(first, last, now=now)


def _table(html: str) -> list[list[str]]:
    body = html.split('data-test="report"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_page_and_csv_show_the_same_rows(
    client: TestClient, session: Session, fixture_sms: None, settle_as: Settle
) -> None:
    settle_as(session)
    client.cookies.set(COOKIE, signed_in(session, "support").token)
    query = "?from=2026-11-01&until=2026-11-02"
    page = client.get("/backoffice/reports/sms" + query)
    assert page.status_code == 200, page.text
    assert "<svg" in page.text
    assert page.text.count("<rect ") == 2
    exported = client.get("/backoffice/reports/sms.csv" + query)
    assert exported.status_code == 200
    assert (
        exported.headers["content-disposition"]
        == 'attachment; filename="sms-2026-11-01-2026-11-02.csv"'
    )
    header, *rows = list(csv.reader(io.StringIO(exported.text)))
    assert header == ["provider", "messages", "segments", "sent", "delivered", "failed", "queued"]
    assert rows == _table(page.text)
    assert rows == sms_rows(service.sms_report(session, staff("admin"), PERIOD))
    assert rows[-1] == ["total", "4", "5", "3", "1", "1", "1"]


def test_pages_answer_a_clerk_403_and_a_bad_range_422(client: TestClient, session: Session) -> None:
    client.cookies.set(COOKIE, signed_in(session, "clerk").token)
    assert client.get("/backoffice/reports/sms").status_code == 403
    assert client.get("/backoffice/reports/sms.csv").status_code == 403
    client.cookies.set(COOKIE, signed_in(session, "admin").token)
    assert client.get("/backoffice/reports").status_code == 200
    assert client.get("/backoffice/reports/sms").status_code == 200
    assert client.get("/backoffice/reports/sms?from=2026-11-05&until=2026-11-01").status_code == 422


def test_the_page_reads_in_the_staff_users_language(client: TestClient, session: Session) -> None:
    reader = signed_in(session, "support")
    reader.user.language = "ru"
    session.flush()
    client.cookies.set(COOKIE, reader.token)
    page = client.get("/backoffice/reports/sms")
    assert page.status_code == 200
    assert "SMS по провайдерам" in page.text
    assert "доставлено" in page.text
