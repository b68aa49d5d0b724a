"""Failed and refunded orders with their reasons, in one statement.

An order placed in the period counts by the state it is in now: ``payment_failed`` (the
last attempt was declined), ``expired`` (never paid: abandoned or cancelled by support),
``provisioning_failed`` (paid, the carrier did not apply it) or ``refunded``. Its reason is
the one written on the order event that moved it into that state (the provider's decline
message, the carrier's failure, support's words, or the refund's reason). ``refunded_minor``
is the money that actually went back (refunds that succeeded), so a requested refund still
in flight shows as 0."""

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

FAILED_STATES = ("payment_failed", "expired", "provisioning_failed", "refunded")

REPORT = "failures"
_COLUMNS = "state, reason, currency, day, orders, amount_minor, refunded_minor"


# The fine groups: per (state, reason, currency, local day) of the failed and refunded
# orders placed on the days ``rows_of`` selects. The reason is the newest event into the
# current state, found through ix_order_events_order_id_id for the few failed orders only;
# refunds (no index on their order) are summed once per order and hash-joined.
def _fine_rows(ranges: Callable[[str], str]) -> str:
    return f"""
        SELECT CAST(o.state AS text) AS state, coalesce(e.reason, '') AS reason, o.currency,
               {local_day("o.created_at")} AS day,
               count(*) AS orders,
               sum(o.amount_minor) AS amount_minor,
               coalesce(sum(r.refunded_minor), 0) AS refunded_minor
        FROM {ranges(REPORT)}
        JOIN orders AS o ON {within("o.created_at")}
        LEFT JOIN LATERAL (
            SELECT oe.reason FROM order_events AS oe
            WHERE oe.order_id = o.id AND oe.to_state = o.state
            ORDER BY oe.id DESC
            LIMIT 1
        ) AS e ON true
        LEFT JOIN (
            SELECT order_id, sum(amount_minor) AS refunded_minor
            FROM refunds
            WHERE state = 'succeeded'
            GROUP BY order_id
        ) AS r ON r.order_id = o.id
        WHERE o.state IN ('payment_failed', 'expired', 'provisioning_failed', 'refunded')
          AND o.created_at >= :starts_at AND o.created_at < :ends_at
        GROUP BY 1, 2, 3, 4
    """


# GROUPING SETS over the settled days' rollup rows and the other days' live rows give the
# (state, reason) rows, each state's total (ordered after its reasons), the per-day series
# and the grand total.
def _statement(ranges: Callable[[str], str], *, rollups: bool) -> str:
    return f"""
    SELECT GROUPING(state) AS no_state_grouping,
           GROUPING(reason) AS no_reason_grouping,
           GROUPING(day) AS no_day_grouping,
           state, reason, currency, day,
           CAST(coalesce(sum(orders), 0) AS bigint) AS orders,
           CAST(sum(amount_minor) AS bigint) AS amount_minor,
           CAST(sum(refunded_minor) AS bigint) AS refunded_minor
    FROM (
        {rollup_rows("report_failure_days", _COLUMNS, REPORT) if rollups else ""}
        {_fine_rows(ranges)}
    ) AS failed_orders
    GROUP BY GROUPING SETS ((state, reason, currency), (state, currency), (day), ())
    ORDER BY state, currency, no_reason_grouping, reason, day
    """


FAILURES = text(_statement(live_ranges, rollups=True))
# Every day read live, no rollups: what the report cost before them (bench/reports.py).
FAILURES_LIVE = text(_statement(period_range, rollups=False))

ROLLUP = Rollup(
    REPORT,
    "report_failure_days",
    text(f"INSERT INTO report_failure_days ({_COLUMNS}) {_fine_rows(settle_ranges)}"),
)


@dataclass(frozen=True, slots=True)
class FailureFigures:
    orders: int = 0
    amount_minor: int = 0
    refunded_minor: int = 0


@dataclass(frozen=True, slots=True)
class FailureRow:
    """``reason`` None is the state's total over all reasons."""

    state: str
    reason: str | None
    currency: str
    figures: FailureFigures


@dataclass(frozen=True, slots=True)
class FailureReport:
    period: Period
    rows: list[FailureRow]  # per state and currency: each reason, then the state's total
    by_day: list[tuple[date, int]]  # failed and refunded orders per day, zeros included
    total_orders: int


def failed_and_refunded(session: Session, period: Period) -> FailureReport:
    result = execute(session, FAILURES, period_values(period))
    rows: list[FailureRow] = []
    days: dict[date, int] = {}
    total_orders = 0
    for row in result:
        figures = FailureFigures(row.orders, row.amount_minor, row.refunded_minor)
        if not row.no_state_grouping:
            reason = None if row.no_reason_grouping else row.reason
            rows.append(FailureRow(row.state, reason, row.currency, figures))
        elif not row.no_day_grouping:
            days[row.day] = row.orders
        else:
            total_orders = row.orders
    by_day = [(day, days.get(day, 0)) for day in period.days()]
    return FailureReport(period, rows, by_day, total_orders)
