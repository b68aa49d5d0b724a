"""Running a report's statement: the period's bounds as parameters, and no JIT; and the
split of the period into the days read from the daily rollups and the days read live.

A year's scan is costed far above ``jit_above_cost``, and compiling the statement (inlining
and optimisation of some 140 functions) took longer than the aggregate itself — 6 of 9 s
for the revenue report over 100,000 cards (bench/reports.py). The statements are single
passes of hash aggregates, which gain little from compiled expressions, so JIT is turned
off for the report's transaction only (SET LOCAL).

Each report is one statement over its fine groups (per local day and the report's own
breakdown): the rollup rows of the settled days that no late write has touched since, and
the live rows of every other day of the period (today, the days not settled yet, the days
marked dirty). Being one statement, it reads the rollups, the horizon, the dirty marks and
the live rows in one snapshot, so a settling that commits meanwhile cannot be counted twice
or missed (see reports/settlement.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.orm import Session

from tulpar.reports.period import Period

_NO_JIT = text("SET LOCAL jit = off")

# The local day of a moment, by a binary search in the period's local midnights (as UTC
# instants) rather than a time-zone conversion per row, which cost more than the rest of
# the row's work on a year of notifications. Rows are already limited to the period, so
# the bucket is 1 .. the number of days.
BUCKET = "width_bucket({moment}, CAST(:day_opens AS timestamptz[]))"
LOCAL_DAY = "CAST(:first_on AS date) + " + BUCKET + " - 1"

# A report reads live what falls at or after the settled horizon (everything when
# ``:rollups`` is false: the bare statement) and the settled days marked dirty.
# Each is a CASE on ``:rollups`` the planner folds (the parameter's value is known when the
# statement is planned), so the bare statement plans as a plain scan of the period.
_REPORT_LIVE_FROM = (
    "CASE WHEN :rollups THEN "
    "(SELECT coalesce(h.settled_before, '-infinity') FROM report_horizon AS h) "
    "ELSE CAST('-infinity' AS timestamptz) END"
)
_REPORT_DIRTY = (
    "CASE WHEN :rollups THEN "
    "ARRAY(SELECT DISTINCT width_bucket(d.moment, CAST(:day_opens AS timestamptz[])) "
    "FROM report_dirty_days AS d WHERE d.report = '{report}' "
    "AND d.moment >= :starts_at AND d.moment < :ends_at) "
    "ELSE CAST('{{}}' AS integer[]) END"
)
# The earliest live moment, as a bound an index on the moment can start its scan at: the
# opening of the earliest dirty day, else the horizon.
_REPORT_LIVE_LOW = (
    "CASE WHEN :rollups THEN least("
    "(SELECT coalesce(h.settled_before, '-infinity') FROM report_horizon AS h), "
    "(SELECT (CAST(:day_opens AS timestamptz[]))"
    "[width_bucket(min(d.moment), CAST(:day_opens AS timestamptz[]))] "
    "FROM report_dirty_days AS d WHERE d.report = '{report}' "
    "AND d.moment >= :starts_at AND d.moment < :ends_at)"
    ") ELSE CAST(:starts_at AS timestamptz) END"
)
_REPORT_SETTLED_THROUGH = (
    "CASE WHEN :rollups THEN (SELECT h.settled_through FROM report_horizon AS h) END"
)
# Settling computes exactly the days it is given (as buckets of the span they cover).
_SETTLE_DAYS = "CAST(:settle_buckets AS integer[])"


def local_day(moment: str) -> str:
    """SQL for the period's local day ``moment`` (a column) falls on."""
    return LOCAL_DAY.format(moment=moment)


def live(moment: str, report: str) -> str:
    """SQL: the row at ``moment`` (a column, already within the period) is read live by the
    report ``report``: at or after the settled horizon, or on a settled day marked dirty."""
    return (
        f"{moment} >= {_REPORT_LIVE_LOW.format(report=report)} AND "
        f"({moment} >= {_REPORT_LIVE_FROM} OR "
        f"{BUCKET.format(moment=moment)} = ANY ({_REPORT_DIRTY.format(report=report)}))"
    )


def settling(moment: str, report: str) -> str:
    """SQL: the row at ``moment`` is on one of the days being settled (``:settle_buckets``)."""
    del report  # the same shape as :func:`live`, for the statements built by either
    return f"{BUCKET.format(moment=moment)} = ANY ({_SETTLE_DAYS})"


def settled(day: str, report: str) -> str:
    """SQL: the rollup row of local day ``day`` (a column, within the period) is read: the day
    is settled and not marked dirty since."""
    return (
        f"({day} <= {_REPORT_SETTLED_THROUGH} AND NOT "
        f"({day} - CAST(:first_on AS date) + 1 = ANY ({_REPORT_DIRTY.format(report=report)})))"
    )


def period_values(period: Period, *, rollups: bool = True) -> dict[str, Any]:
    """The parameters of a report's statement; ``rollups`` False reads every day live."""
    return {
        "first_on": period.first_on,
        "last_on": period.last_on,
        "day_opens": day_opens(period),
        "starts_at": period.starts_at,
        "ends_at": period.ends_at,
        "rollups": rollups,
    }


def settle_values(days: Sequence[date]) -> dict[str, Any]:
    """The parameters of a settling statement computing the rows of ``days`` (sorted)."""
    span = Period(days[0], days[-1])
    return {
        **period_values(span),
        "settle_buckets": [(day - span.first_on).days + 1 for day in days],
    }


def day_opens(period: Period) -> list[datetime]:
    return [Period(day, day).starts_at for day in period.days()]


def execute(session: Session, statement: TextClause, values: dict[str, Any]) -> Sequence[Row[Any]]:
    session.execute(_NO_JIT)
    return session.execute(statement, values).all()
