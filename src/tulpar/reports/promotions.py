"""What promotions cost: per promotion, the redemptions that stand (state ``redeemed``: the
order completed; held and released ones cost nothing) placed in the period, their discounts
per currency (``orders.discount_minor``, in the order's currency) and the bonus data and days
they gave. One statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from tulpar.reports.period import Period
from tulpar.reports.statement import execute, local_day, period_values

# GROUPING SETS: per (promotion, currency), per currency, and redemptions per day.
PROMOTION_COST = text(
    f"""
    SELECT GROUPING(promotion_id) AS no_promotion_grouping,
           GROUPING(currency) AS no_currency_grouping,
           promotion_id, currency, day,
           min(code) AS code, min(name) AS name,
           count(*) AS redemptions,
           CAST(sum(discount_minor) AS bigint) AS discount_minor,
           CAST(sum(bonus_data_bytes) AS bigint) AS bonus_data_bytes,
           CAST(sum(bonus_days) AS bigint) AS bonus_days
    FROM (
        SELECT pr.promotion_id, o.currency, {local_day("pr.created_at")} AS day,
               p.code, p.names ->> :language AS name,
               o.discount_minor, o.bonus_data_bytes, o.bonus_days
        FROM promotion_redemptions AS pr
        JOIN orders AS o ON o.id = pr.order_id
        JOIN promotions AS p ON p.id = pr.promotion_id
        WHERE pr.state = 'redeemed'
          AND pr.created_at >= :starts_at AND pr.created_at < :ends_at
    ) AS redeemed
    GROUP BY GROUPING SETS ((promotion_id, currency), (currency), (day))
    ORDER BY promotion_id NULLS LAST, currency, day
    """
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
