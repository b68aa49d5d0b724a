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
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.orm import Session

from tulpar.reports.period import Period

_NO_JIT = text("SET LOCAL jit = off")

# The local day of a moment, by a binary search in the period's local midnights (as UTC
# instants) rather than a time-zone conversion per row, which cost more than the rest of
# the row's work on a year of notifications. Rows are already limited to the period, so
# the bucket is 1 .. the number of days.
LOCAL_DAY = (
    "CAST(:first_on AS date) + width_bucket({moment}, CAST(:day_opens AS timestamptz[])) - 1"
)

# The live rows of a report are joined to its live ranges (``lr``: opens, closes), so each
# range is an index scan on the row's moment. A report's ranges are the settled horizon to
# the period's end (everything when nothing is settled, or the horizon row is missing) and
# each settled day marked dirty (only before the horizon: the ranges never overlap). The
# horizon is read by its key, so the planner knows it is one row and plans an index scan
# per range, not a join of the whole table against the ranges.
_SETTLED_BEFORE = (
    "coalesce((SELECT h.settled_before FROM report_horizon AS h WHERE h.id = 1), '-infinity')"
)
_REPORT_RANGES = f"""(
    SELECT greatest(CAST(:starts_at AS timestamptz), {_SETTLED_BEFORE}) AS opens,
           CAST(:ends_at AS timestamptz) AS closes
    WHERE {_SETTLED_BEFORE} < :ends_at
    UNION ALL
    SELECT bounds.day_bounds[dirty.n], bounds.day_bounds[dirty.n + 1]
    FROM (
        SELECT DISTINCT width_bucket(d.moment, CAST(:day_opens AS timestamptz[])) AS n
        FROM report_dirty_days AS d
        JOIN report_horizon AS h ON h.id = 1 AND d.moment < h.settled_before
        WHERE d.report = '{{report}}' AND d.moment >= :starts_at AND d.moment < :ends_at
    ) AS dirty,
    (SELECT CAST(:day_opens AS timestamptz[]) || CAST(:ends_at AS timestamptz) AS day_bounds)
        AS bounds
) AS lr"""
# Every day of the period (the bare statement, with no rollups); the planner folds the one
# range into the scan's bounds.
_PERIOD_RANGE = (
    "(SELECT CAST(:starts_at AS timestamptz) AS opens, CAST(:ends_at AS timestamptz) AS closes)"
    " AS lr"
)
# The days being settled, as runs of consecutive days (see :func:`settle_values`).
_SETTLE_RANGES = (
    "unnest(CAST(:range_opens AS timestamptz[]), CAST(:range_closes AS timestamptz[]))"
    " AS lr(opens, closes)"
)
_DIRTY_BUCKETS = (
    "ARRAY(SELECT DISTINCT width_bucket(d.moment, CAST(:day_opens AS timestamptz[])) "
    "FROM report_dirty_days AS d WHERE d.report = '{report}' "
    "AND d.moment >= :starts_at AND d.moment < :ends_at)"
)


def local_day(moment: str) -> str:
    """SQL for the period's local day ``moment`` (a column) falls on."""
    return LOCAL_DAY.format(moment=moment)


def live_ranges(report: str) -> str:
    """SQL FROM item ``lr``: the ranges report ``report`` reads live."""
    return _REPORT_RANGES.format(report=report)


def period_range(report: str) -> str:
    """SQL FROM item ``lr``: the whole period, read live."""
    del report  # the same shape as live_ranges
    return _PERIOD_RANGE


def settle_ranges(report: str) -> str:
    """SQL FROM item ``lr``: the days being settled."""
    del report
    return _SETTLE_RANGES


def within(moment: str) -> str:
    """SQL: ``moment`` (a column) is in the range ``lr``."""
    return f"{moment} >= lr.opens AND {moment} < lr.closes"


def settled(day: str, report: str) -> str:
    """SQL: the rollup row of local day ``day`` (a column, within the period) is read: the day
    is settled and not marked dirty since."""
    return (
        f"({day} <= (SELECT h.settled_through FROM report_horizon AS h WHERE h.id = 1) AND NOT "
        f"({day} - CAST(:first_on AS date) + 1 = ANY ({_DIRTY_BUCKETS.format(report=report)})))"
    )


def rollup_rows(table: str, columns: str, report: str) -> str:
    """SQL: the ``columns`` of rollup ``table``'s rows for the period's settled, clean days,
    ahead of the live rows of the other days (``UNION ALL`` follows)."""
    return f"""
        SELECT {columns} FROM {table} AS rollup
        WHERE rollup.day >= :first_on AND rollup.day <= :last_on
          AND {settled("rollup.day", report)}
        UNION ALL
    """


def period_values(period: Period) -> dict[str, Any]:
    return {
        "first_on": period.first_on,
        "last_on": period.last_on,
        "day_opens": day_opens(period),
        "starts_at": period.starts_at,
        "ends_at": period.ends_at,
    }


def settle_values(days: Sequence[date]) -> dict[str, Any]:
    """The parameters of a settling statement computing the rows of ``days`` (sorted)."""
    runs: list[list[date]] = []
    for day in days:
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return {
        **period_values(Period(days[0], days[-1])),
        "range_opens": [Period(run[0], run[0]).starts_at for run in runs],
        "range_closes": [Period(run[-1], run[-1]).ends_at for run in runs],
    }


def day_opens(period: Period) -> list[datetime]:
    return [Period(day, day).starts_at for day in period.days()]


def execute(session: Session, statement: TextClause, values: dict[str, Any]) -> Sequence[Row[Any]]:
    session.execute(_NO_JIT)
    return session.execute(statement, values).all()
