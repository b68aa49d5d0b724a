"""Running a report's statement: the period's bounds as parameters, and no JIT.

A year's scan is costed far above ``jit_above_cost``, and compiling the statement (inlining
and optimisation of some 140 functions) took longer than the aggregate itself — 6 of 9 s
for the revenue report over 100,000 cards (bench/reports.py). The statements are single
passes of hash aggregates, which gain little from compiled expressions, so JIT is turned
off for the report's transaction only (SET LOCAL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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


def local_day(moment: str) -> str:
    """SQL for the period's local day ``moment`` (a column) falls on."""
    return LOCAL_DAY.format(moment=moment)


def period_values(period: Period) -> dict[str, Any]:
    return {
        "first_on": period.first_on,
        "day_opens": day_opens(period),
        "starts_at": period.starts_at,
        "ends_at": period.ends_at,
    }


def day_opens(period: Period) -> list[datetime]:
    return [Period(day, day).starts_at for day in period.days()]


def execute(session: Session, statement: TextClause, values: dict[str, Any]) -> Sequence[Row[Any]]:
    session.execute(_NO_JIT)
    return session.execute(statement, values).all()
