"""The promotion cost laid out: one row per promotion and currency, then each currency's
total; the chart is redemptions per day."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.promotions import PromotionCost, PromotionReport
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.backoffice.reports.layout import (
    ReportTable,
    add_report,
    amount,
    gigabytes,
    new_router,
)
from tulpar.web.staff.session import StaffPage

HEADER = (
    "promotion",
    "code",
    "name",
    "currency",
    "redemptions",
    "discount",
    "bonus data, GB",
    "bonus days",
)

router = new_router()


def _cells(cost: PromotionCost, currency: str) -> list[str]:
    return [
        currency,
        str(cost.redemptions),
        amount(cost.discount_minor, currency),
        gigabytes(cost.bonus_data_bytes),
        str(cost.bonus_days),
    ]


def promotion_rows(report: PromotionReport) -> list[list[str]]:
    rows = [
        [str(row.promotion_id), row.code or "automatic", row.name, *_cells(row.cost, row.currency)]
        for row in report.rows
    ]
    rows += [
        ["total", "", "", *_cells(cost, currency)]
        for currency, cost in sorted(report.totals.items())
    ]
    return rows


def build(session: Session, page: StaffPage, period: Period, language: str) -> ReportTable:
    report = service.promotion_report(session, page.caller, period, language=language)
    return ReportTable(
        title="Promotion cost",
        explanation="promotions:explanation",
        chart_label="Redemptions per day",
        chart=bar_chart([(day.isoformat(), count) for day, count in report.by_day]),
        header=HEADER,
        rows=promotion_rows(report),
    )


add_report(router, "promotions", build)
