"""The SMS report laid out: one row per provider (none: still queued), then the total; the
chart is messages per day."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.sms import SmsReport
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.backoffice.reports.layout import ReportTable, add_report, new_router
from tulpar.web.staff.session import StaffPage

COLUMNS = ("messages", "segments", "sent", "delivered", "failed", "queued")

router = new_router()


def sms_rows(report: SmsReport) -> list[list[str]]:
    """The table's rows (and the CSV's): one per provider, then the total."""
    rows = [
        [provider or "", *(str(getattr(figures, column)) for column in COLUMNS)]
        for provider, figures in report.by_provider
    ]
    rows.append(["total", *(str(getattr(report.total, column)) for column in COLUMNS)])
    return rows


def build(session: Session, page: StaffPage, period: Period, language: str) -> ReportTable:
    report = service.sms_report(session, page.caller, period)
    return ReportTable(
        title="SMS by provider",
        explanation="sms:explanation",
        chart_label="Messages per day",
        chart=bar_chart([(day.isoformat(), figures.messages) for day, figures in report.by_day]),
        header=("provider", *COLUMNS),
        rows=sms_rows(report),
    )


add_report(router, "sms", build)
