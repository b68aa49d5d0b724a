"""The renewal-rate report laid out: one row per local day of the validity ends, then the
total; the chart is the rate per day (whole percent)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.renewals import RenewalFigures, RenewalReport
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.backoffice.reports.layout import ReportTable, add_report, new_router
from tulpar.web.staff.session import StaffPage

HEADER = (
    "day",
    "validity ends",
    "renewed",
    "renewed before the end",
    "renewed after the end",
    "renewed within 72 h of a reminder",
    "renewal rate, per 100 ends",
)

router = new_router()


def _cells(figures: RenewalFigures) -> list[str]:
    rate = figures.renewal_rate
    return [
        str(figures.validity_ends),
        str(figures.renewed),
        str(figures.renewed_before_end),
        str(figures.renewed_after_end),
        str(figures.renewed_after_reminder),
        "" if rate is None else str(rate),
    ]


def renewal_rows(report: RenewalReport) -> list[list[str]]:
    rows = [[day.isoformat(), *_cells(figures)] for day, figures in report.by_day]
    rows.append(["total", *_cells(report.total)])
    return rows


def build(session: Session, page: StaffPage, period: Period, language: str) -> ReportTable:
    report = service.renewal_report(session, page.caller, period)
    return ReportTable(
        title="Renewal rate",
        explanation="renewals:explanation",
        chart_label="Renewal rate per day, per 100 ends",
        chart=bar_chart(
            [(day.isoformat(), int(figures.renewal_rate or 0)) for day, figures in report.by_day]
        ),
        header=HEADER,
        rows=renewal_rows(report),
    )


add_report(router, "renewals", build)
