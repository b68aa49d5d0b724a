"""The revenue report laid out: one row per channel, plan and store in each currency, then
each currency's total; the chart is net revenue per day in the main currency."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.money import Money
from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.revenue import RevenueFigures, RevenueReport
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.backoffice.reports.layout import ReportTable, add_report, amount, new_router
from tulpar.web.staff.session import StaffPage

HEADER = ("by", "key", "currency", "orders", "gross", "refunded", "net")
# What a NULL key means in each breakdown.
NO_KEY = {"plan": "wallet top-up", "store": "not at a store", "channel": ""}

router = new_router()


def _cells(figures: RevenueFigures, currency: str) -> list[str]:
    return [
        str(figures.orders),
        amount(figures.gross_minor, currency),
        amount(figures.refunded_minor, currency),
        amount(figures.net_minor, currency),
    ]


def revenue_rows(report: RevenueReport) -> list[list[str]]:
    rows = [
        [
            row.dimension,
            row.key or NO_KEY[row.dimension],
            row.currency,
            *_cells(row.figures, row.currency),
        ]
        for row in report.rows
    ]
    rows += [
        ["total", "", currency, *_cells(figures, currency)]
        for currency, figures in sorted(report.totals.items())
    ]
    return rows


def build(session: Session, page: StaffPage, period: Period, language: str) -> ReportTable:
    report = service.revenue_report(session, page.caller, period)
    currency = report.chart_currency()
    days = report.by_day.get(currency, []) if currency else []
    unit = 10 ** Money(0, currency).exponent if currency else 1
    return ReportTable(
        title="Revenue",
        explanation="revenue:explanation",
        chart_label="Net revenue per day (main currency)",
        chart=bar_chart(
            [(f"{day.isoformat()} {currency}", figures.net_minor // unit) for day, figures in days]
        ),
        header=HEADER,
        rows=revenue_rows(report),
    )


add_report(router, "revenue", build)
