"""The failed and refunded orders laid out: per state and currency, one row per reason and
then the state's total; the chart is such orders per day."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.reports import service
from tulpar.reports.failures import FailureReport
from tulpar.reports.period import Period
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.backoffice.reports.layout import ReportTable, add_report, amount, new_router
from tulpar.web.staff.session import StaffPage

HEADER = ("state", "reason", "currency", "orders", "amount", "refunded")

router = new_router()


def failure_rows(report: FailureReport) -> list[list[str]]:
    rows = [
        [
            row.state,
            "total" if row.reason is None else row.reason,
            row.currency,
            str(row.figures.orders),
            amount(row.figures.amount_minor, row.currency),
            amount(row.figures.refunded_minor, row.currency),
        ]
        for row in report.rows
    ]
    rows.append(["total", "", "", str(report.total_orders), "", ""])
    return rows


def build(session: Session, page: StaffPage, period: Period, language: str) -> ReportTable:
    report = service.failure_report(session, page.caller, period)
    return ReportTable(
        title="Failed and refunded orders",
        explanation="failures:explanation",
        chart_label="Failed and refunded orders per day",
        chart=bar_chart([(day.isoformat(), orders) for day, orders in report.by_day]),
        header=HEADER,
        rows=failure_rows(report),
    )


add_report(router, "failures", build)
