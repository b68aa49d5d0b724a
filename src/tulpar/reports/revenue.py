"""Revenue by local day, channel, plan and store, per currency, in one statement.

**Net revenue** is the money taken less the money given back: the amounts of the orders
placed in the period whose payment succeeded (``paid_payment_id`` set, whatever happened
after: completed, still provisioning, failed or refunded), less the refunds that succeeded
on those same orders (whole or partial, whenever they were made). Both sides are counted on
the order's day, so a day's figure only moves down as refunds come in. Amounts are never
converted: each currency is its own row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from tulpar.reports.period import Period
from tulpar.reports.rollup import Rollup
from tulpar.reports.statement import (
    execute,
    live_ranges,
    local_day,
    period_range,
    period_values,
    rollup_rows,
    settle_ranges,
    within,
)


# The fine groups: per (currency, local day, channel, plan, store) of the paid orders placed
# on the days ``rows_of`` selects. Plans and stores are kept by id (their codes are joined
# when the report is read, so a renamed code shows everywhere at once). A NULL plan is a
# wallet top-up; a NULL store a sale away from the counter.
def _fine_rows(ranges: Callable[[str], str]) -> str:
    return f"""
        SELECT o.currency, {local_day("o.created_at")} AS day,
               CAST(o.channel AS text) AS channel, o.plan_id, cs.store_id,
               count(*) AS orders,
               sum(o.amount_minor) AS gross_minor,
               coalesce(sum(r.refunded_minor), 0) AS refunded_minor
        FROM {ranges(REPORT)}
        JOIN orders AS o ON {within("o.created_at")}
        LEFT JOIN counter_sales AS cs ON cs.order_id = o.id
        LEFT JOIN (
            SELECT order_id, sum(amount_minor) AS refunded_minor
            FROM refunds
            WHERE state = 'succeeded'
            GROUP BY order_id
        ) AS r ON r.order_id = o.id
        WHERE o.paid_payment_id IS NOT NULL
          AND o.created_at >= :starts_at AND o.created_at < :ends_at
        GROUP BY 1, 2, 3, 4, 5
    """


REPORT = "revenue"
_COLUMNS = "currency, day, channel, plan_id, store_id, orders, gross_minor, refunded_minor"


# The settled days' rollup rows and the other days' live rows, then GROUPING SETS make every
# breakdown and the per-currency total from those few hundred groups.
def _statement(ranges: Callable[[str], str], *, rollups: bool) -> str:
    return f"""
    SELECT GROUPING(day) AS no_day_grouping,
           GROUPING(channel) AS no_channel_grouping,
           GROUPING(plan_code) AS no_plan_grouping,
           GROUPING(store_code) AS no_store_grouping,
           currency, day, channel, plan_code, store_code,
           CAST(sum(orders) AS bigint) AS orders,
           CAST(sum(gross_minor) AS bigint) AS gross_minor,
           CAST(sum(refunded_minor) AS bigint) AS refunded_minor
    FROM (
        SELECT fine.*, p.code AS plan_code, s.code AS store_code
        FROM (
            {rollup_rows("report_revenue_days", _COLUMNS, REPORT) if rollups else ""}
            {_fine_rows(ranges)}
        ) AS fine
        LEFT JOIN plans AS p ON p.id = fine.plan_id
        LEFT JOIN stores AS s ON s.id = fine.store_id
    ) AS paid_orders
    GROUP BY GROUPING SETS (
        (currency, day), (currency, channel), (currency, plan_code), (currency, store_code),
        (currency)
    )
    ORDER BY currency, channel, plan_code NULLS LAST, store_code NULLS LAST, day,
             no_day_grouping, no_channel_grouping, no_plan_grouping, no_store_grouping
    """


REVENUE = text(_statement(live_ranges, rollups=True))
# Every day read live, no rollups: what the report cost before them (bench/reports.py).
REVENUE_LIVE = text(_statement(period_range, rollups=False))

ROLLUP = Rollup(
    REPORT,
    "report_revenue_days",
    text(f"INSERT INTO report_revenue_days ({_COLUMNS}) {_fine_rows(settle_ranges)}"),
)

DIMENSIONS = ("channel", "plan", "store")


@dataclass(frozen=True, slots=True)
class RevenueFigures:
    orders: int = 0
    gross_minor: int = 0
    refunded_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.refunded_minor


@dataclass(frozen=True, slots=True)
class RevenueRow:
    """One breakdown row: ``dimension`` is channel, plan or store; ``key`` None is a wallet
    top-up (plan) or a sale away from any store (store)."""

    dimension: str
    key: str | None
    currency: str
    figures: RevenueFigures


@dataclass(frozen=True, slots=True)
class RevenueReport:
    period: Period
    rows: list[RevenueRow]  # by channel, then plan, then store, each per currency
    by_day: dict[str, list[tuple[date, RevenueFigures]]]  # per currency, every day
    totals: dict[str, RevenueFigures]  # per currency

    def chart_currency(self) -> str | None:
        """The currency with the most net revenue (what the chart draws)."""
        return max(self.totals, key=lambda c: self.totals[c].net_minor, default=None)


def revenue(session: Session, period: Period) -> RevenueReport:
    rows = execute(session, REVENUE, period_values(period))
    grouped: dict[str, list[RevenueRow]] = {dimension: [] for dimension in DIMENSIONS}
    days: dict[str, dict[date, RevenueFigures]] = {}
    totals: dict[str, RevenueFigures] = {}
    for row in rows:
        figures = RevenueFigures(row.orders, row.gross_minor, row.refunded_minor)
        if not row.no_day_grouping:
            days.setdefault(row.currency, {})[row.day] = figures
        elif not row.no_channel_grouping:
            grouped["channel"].append(RevenueRow("channel", row.channel, row.currency, figures))
        elif not row.no_plan_grouping:
            grouped["plan"].append(RevenueRow("plan", row.plan_code, row.currency, figures))
        elif not row.no_store_grouping:
            grouped["store"].append(RevenueRow("store", row.store_code, row.currency, figures))
        else:
            totals[row.currency] = figures
    by_day = {
        currency: [(day, per_day.get(day, RevenueFigures())) for day in period.days()]
        for currency, per_day in days.items()
    }
    ordered = [row for dimension in DIMENSIONS for row in grouped[dimension]]
    return RevenueReport(period, ordered, by_day, totals)
