"""What promotions cost: per promotion, the redemptions that stand (state ``redeemed``: the
order completed; held and released ones cost nothing) placed in the period, their discounts
per currency (``orders.discount_minor``, in the order's currency) and the bonus data and days
they gave. One statement."""

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

REPORT = "promotions"
_COLUMNS = "promotion_id, currency, day, redemptions, discount_minor, bonus_data_bytes, bonus_days"


# The fine groups: per (promotion, currency, local day) of the redemptions that stand, made
# on the days ``rows_of`` selects. The promotions' codes and names are joined when the
# report is read.
def _fine_rows(ranges: Callable[[str], str]) -> str:
    return f"""
        SELECT pr.promotion_id, o.currency, {local_day("pr.created_at")} AS day,
               count(*) AS redemptions,
               sum(o.discount_minor) AS discount_minor,
               sum(o.bonus_data_bytes) AS bonus_data_bytes,
               sum(o.bonus_days) AS bonus_days
        FROM {ranges(REPORT)}
        JOIN promotion_redemptions AS pr ON {within("pr.created_at")}
        JOIN orders AS o ON o.id = pr.order_id
        WHERE pr.state = 'redeemed'
          AND pr.created_at >= :starts_at AND pr.created_at < :ends_at
        GROUP BY 1, 2, 3
    """


# GROUPING SETS over the settled days' rollup rows and the other days' live rows: per
# (promotion, currency), per currency, and redemptions per day.
def _statement(ranges: Callable[[str], str], *, rollups: bool) -> str:
    return f"""
    SELECT GROUPING(promotion_id) AS no_promotion_grouping,
           GROUPING(currency) AS no_currency_grouping,
           promotion_id, currency, day,
           min(code) AS code, min(name) AS name,
           CAST(sum(redemptions) AS bigint) AS redemptions,
           CAST(sum(discount_minor) AS bigint) AS discount_minor,
           CAST(sum(bonus_data_bytes) AS bigint) AS bonus_data_bytes,
           CAST(sum(bonus_days) AS bigint) AS bonus_days
    FROM (
        SELECT fine.*, p.code, p.names ->> :language AS name
        FROM (
            {rollup_rows("report_promotion_days", _COLUMNS, REPORT) if rollups else ""}
            {_fine_rows(ranges)}
        ) AS fine
        JOIN promotions AS p ON p.id = fine.promotion_id
    ) AS redeemed
    GROUP BY GROUPING SETS ((promotion_id, currency), (currency), (day))
    ORDER BY promotion_id NULLS LAST, currency, day
    """


PROMOTION_COST = text(_statement(live_ranges, rollups=True))
# Every day read live, no rollups: what the report cost before them (bench/reports.py).
PROMOTION_COST_LIVE = text(_statement(period_range, rollups=False))

ROLLUP = Rollup(
    REPORT,
    "report_promotion_days",
    text(f"INSERT INTO report_promotion_days ({_COLUMNS}) {_fine_rows(settle_ranges)}"),
)


@dataclass(frozen=True, slots=True)
class PromotionCost:
    redemptions: int = 0
    discount_minor: int = 0
    bonus_data_bytes: int = 0
    bonus_days: int = 0


@dataclass(frozen=True, slots=True)
class PromotionRow:
    promotion_id: int
    code: str | None  # None: an automatic promotion
    name: str
    currency: str
    cost: PromotionCost


@dataclass(frozen=True, slots=True)
class PromotionReport:
    period: Period
    rows: list[PromotionRow]
    by_day: list[tuple[date, int]]  # redemptions per day, zeros included
    totals: dict[str, PromotionCost]  # per currency


def promotion_cost(session: Session, period: Period, *, language: str) -> PromotionReport:
    """``language``: the one the promotions' names are shown in."""
    result = execute(session, PROMOTION_COST, {**period_values(period), "language": language})
    rows: list[PromotionRow] = []
    days: dict[date, int] = {}
    totals: dict[str, PromotionCost] = {}
    for row in result:
        cost = PromotionCost(
            row.redemptions, row.discount_minor, row.bonus_data_bytes, row.bonus_days
        )
        if not row.no_promotion_grouping:
            rows.append(PromotionRow(row.promotion_id, row.code, row.name, row.currency, cost))
        elif not row.no_currency_grouping:
            totals[row.currency] = cost
        else:
            days[row.day] = row.redemptions
    by_day = [(day, days.get(day, 0)) for day in period.days()]
    return PromotionReport(period, rows, by_day, totals)
