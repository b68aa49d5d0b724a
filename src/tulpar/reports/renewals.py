"""Renewals against expiries: of the validity ends that fell in the period, how many a renewal
replaced, before or after the end, and how many of those renewals were placed within 72 hours
after a reminder SMS. One statement.

A validity end is a (card, moment) the card was valid until. Ends a plan replaced are on
the bundles (``replaced_validity_ends_at``, migration 0021); the rest are the cards' current
ends. An end counts as renewed if any plan was applied while it stood, whenever that was
(so an end in the period may turn renewed later, during the grace period). The renewal's
moment is when its order was placed (the bundle's creation for a plan applied without an
order). A reminder counts once handed to a provider (``sent_at``): any ``reminder_*`` SMS to
the card in the 72 hours up to the renewal (queued at most a day before it was sent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

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

# Migration 0022's trigger on notifications marks the ends of the renewals placed within
# both after a reminder was queued (96 h): change them together.
REMINDER_WINDOW = timedelta(hours=72)
QUEUE_ALLOWANCE = timedelta(days=1)

REPORT = "renewals"
_COLUMNS = (
    "day, validity_ends, renewed, renewed_before_end, renewed_after_end, renewed_after_reminder"
)


# The fine groups: per local day of the validity ends that fell on the days ``rows_of``
# selects. The replaced ends come from ix_bundles_replaced_validity_ends_at, each with its
# order by primary key (a hash join read every order of the year even for a month). The
# reminder check is an EXISTS per renewed end through ix_notifications_card_id_created_at,
# its range bounded on both sides: created before the renewal, and at most QUEUE_ALLOWANCE
# before the 72 h window opens. Reminders are queued outside the quiet hours and sent by
# the next worker pass, so one that waited longer than that in the queue is not counted;
# without the lower bound each check read all of the card's earlier messages.
def _fine_rows(ranges: Callable[[str], str]) -> str:
    return f"""
    WITH validity_ends AS (
        SELECT card_id, ends_at, min(renewed_at) AS renewed_at
        FROM (
            SELECT b.card_id, b.replaced_validity_ends_at AS ends_at,
                   coalesce(
                       (SELECT o.created_at FROM orders AS o WHERE o.id = b.order_id),
                       b.created_at
                   ) AS renewed_at
            FROM {ranges(REPORT)}
            JOIN bundles AS b ON {within("b.replaced_validity_ends_at")}
            WHERE b.replaced_validity_ends_at >= :starts_at
              AND b.replaced_validity_ends_at < :ends_at
            UNION ALL
            SELECT c.id, c.validity_ends_at, NULL
            FROM {ranges(REPORT)}
            JOIN cards AS c ON {within("c.validity_ends_at")}
            WHERE c.validity_ends_at >= :starts_at AND c.validity_ends_at < :ends_at
        ) AS ends
        GROUP BY card_id, ends_at
    )
    SELECT day,
           count(*) AS validity_ends,
           count(renewed_at) AS renewed,
           count(*) FILTER (WHERE renewed_at <= ends_at) AS renewed_before_end,
           count(*) FILTER (WHERE renewed_at > ends_at) AS renewed_after_end,
           count(*) FILTER (WHERE after_reminder) AS renewed_after_reminder
    FROM (
        SELECT {local_day("e.ends_at")} AS day, e.ends_at, e.renewed_at,
               e.renewed_at IS NOT NULL AND EXISTS (
                   SELECT 1 FROM notifications AS n
                   WHERE n.card_id = e.card_id
                     AND n.created_at <= e.renewed_at
                     AND n.created_at > e.renewed_at - CAST(:window AS interval)
                                        - CAST(:queue_allowance AS interval)
                     AND starts_with(n.template, 'reminder_')
                     AND n.sent_at <= e.renewed_at
                     AND n.sent_at > e.renewed_at - CAST(:window AS interval)
               ) AS after_reminder
        FROM validity_ends AS e
    ) AS ends_in_period
    GROUP BY day
    """


# The settled days' rollup rows and the other days' live rows, per day and in total.
def _statement(ranges: Callable[[str], str], *, rollups: bool) -> str:
    return f"""
    SELECT GROUPING(day) AS no_day_grouping, day,
           CAST(coalesce(sum(validity_ends), 0) AS bigint) AS validity_ends,
           CAST(coalesce(sum(renewed), 0) AS bigint) AS renewed,
           CAST(coalesce(sum(renewed_before_end), 0) AS bigint) AS renewed_before_end,
           CAST(coalesce(sum(renewed_after_end), 0) AS bigint) AS renewed_after_end,
           CAST(coalesce(sum(renewed_after_reminder), 0) AS bigint) AS renewed_after_reminder
    FROM (
        {rollup_rows("report_renewal_days", _COLUMNS, REPORT) if rollups else ""}
        SELECT {_COLUMNS} FROM ({_fine_rows(ranges)}) AS live_days
    ) AS per_day
    GROUP BY GROUPING SETS ((day), ())
    ORDER BY day
    """


RENEWALS = text(_statement(live_ranges, rollups=True))
# Every day read live, no rollups: what the report cost before them (bench/reports.py).
RENEWALS_LIVE = text(_statement(period_range, rollups=False))


def _interval(span: timedelta) -> str:
    return f"{int(span.total_seconds())} seconds"


WINDOW_VALUES = {
    "window": _interval(REMINDER_WINDOW),
    "queue_allowance": _interval(QUEUE_ALLOWANCE),
}

ROLLUP = Rollup(
    REPORT,
    "report_renewal_days",
    text(f"INSERT INTO report_renewal_days ({_COLUMNS}) {_fine_rows(settle_ranges)}"),
    WINDOW_VALUES,
)


@dataclass(frozen=True, slots=True)
class RenewalFigures:
    validity_ends: int = 0
    renewed: int = 0
    renewed_before_end: int = 0
    renewed_after_end: int = 0
    renewed_after_reminder: int = 0

    @property
    def renewal_rate(self) -> Decimal | None:
        """Renewed ends per 100 ends, to one decimal (None with no ends)."""
        if not self.validity_ends:
            return None
        return (Decimal(100 * self.renewed) / self.validity_ends).quantize(Decimal("0.1"))


@dataclass(frozen=True, slots=True)
class RenewalReport:
    period: Period
    by_day: list[tuple[date, RenewalFigures]]  # every day of the period, zeros included
    total: RenewalFigures


def renewal_rate(session: Session, period: Period) -> RenewalReport:
    result = execute(
        session,
        RENEWALS,
        {**period_values(period), **WINDOW_VALUES},
    )
    days: dict[date, RenewalFigures] = {}
    total = RenewalFigures()
    for row in result:
        figures = RenewalFigures(
            row.validity_ends,
            row.renewed,
            row.renewed_before_end,
            row.renewed_after_end,
            row.renewed_after_reminder,
        )
        if row.no_day_grouping:
            total = figures
        else:
            days[row.day] = figures
    by_day = [(day, days.get(day, RenewalFigures())) for day in period.days()]
    return RenewalReport(period, by_day, total)
