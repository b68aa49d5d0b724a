"""SMS sent, delivered and failed, by provider and by local day, in one statement.

"Sent" is handed to a provider (``sent_at`` set); "delivered"/"failed" are the message's
state (delivery reports, migration 0010); "queued" has not reached a provider yet (no
provider: shown as none)."""

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

REPORT = "sms"
_COLUMNS = "provider, day, messages, segments, sent, delivered, failed, queued"


# The fine groups: per (provider, local day) of the SMS queued on the days ``rows_of``
# selects.
def _fine_rows(ranges: Callable[[str], str]) -> str:
    return f"""
        SELECT n.provider, {local_day("n.created_at")} AS day,
               count(*) AS messages,
               coalesce(sum(n.segment_count), 0) AS segments,
               count(*) FILTER (WHERE n.sent_at IS NOT NULL) AS sent,
               count(*) FILTER (WHERE n.state = 'delivered') AS delivered,
               count(*) FILTER (WHERE n.state = 'failed') AS failed,
               count(*) FILTER (WHERE n.state = 'queued') AS queued
        FROM {ranges(REPORT)}
        JOIN notifications AS n ON {within("n.created_at")}
        WHERE n.channel = 'sms' AND n.created_at >= :starts_at AND n.created_at < :ends_at
        GROUP BY 1, 2
    """


# The settled days' rollup rows and the other days' live rows; GROUPING SETS then make the
# per-provider rows, the per-day series for the chart and the total (zeros when there is
# nothing) from those few hundred groups.
def _statement(ranges: Callable[[str], str], *, rollups: bool) -> str:
    return f"""
    SELECT GROUPING(provider) AS no_provider_grouping,
           GROUPING(day) AS no_day_grouping,
           provider, day,
           CAST(coalesce(sum(messages), 0) AS bigint) AS messages,
           CAST(coalesce(sum(segments), 0) AS bigint) AS segments,
           CAST(coalesce(sum(sent), 0) AS bigint) AS sent,
           CAST(coalesce(sum(delivered), 0) AS bigint) AS delivered,
           CAST(coalesce(sum(failed), 0) AS bigint) AS failed,
           CAST(coalesce(sum(queued), 0) AS bigint) AS queued
    FROM (
        {rollup_rows("report_sms_days", _COLUMNS, REPORT) if rollups else ""}
        {_fine_rows(ranges)}
    ) AS per_provider_day
    GROUP BY GROUPING SETS ((provider), (day), ())
    ORDER BY provider NULLS LAST, day, no_provider_grouping, no_day_grouping
    """


SMS_BY_PROVIDER = text(_statement(live_ranges, rollups=True))
# Every day read live, no rollups: what the report cost before them (bench/reports.py).
SMS_BY_PROVIDER_LIVE = text(_statement(period_range, rollups=False))

ROLLUP = Rollup(
    REPORT,
    "report_sms_days",
    text(f"INSERT INTO report_sms_days ({_COLUMNS}) {_fine_rows(settle_ranges)}"),
)


@dataclass(frozen=True, slots=True)
class SmsFigures:
    messages: int = 0
    segments: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    queued: int = 0


@dataclass(frozen=True, slots=True)
class SmsReport:
    period: Period
    by_provider: list[tuple[str | None, SmsFigures]]
    by_day: list[tuple[date, SmsFigures]]  # every day of the period, zeros included
    total: SmsFigures


def sms_by_provider(session: Session, period: Period) -> SmsReport:
    rows = execute(session, SMS_BY_PROVIDER, period_values(period))
    by_provider: list[tuple[str | None, SmsFigures]] = []
    days: dict[date, SmsFigures] = {}
    total = SmsFigures()
    for row in rows:
        figures = SmsFigures(
            row.messages, row.segments, row.sent, row.delivered, row.failed, row.queued
        )
        if not row.no_provider_grouping:
            by_provider.append((row.provider, figures))
        elif not row.no_day_grouping:
            days[row.day] = figures
        else:
            total = figures
    by_day = [(day, days.get(day, SmsFigures())) for day in period.days()]
    return SmsReport(period, by_provider, by_day, total)
