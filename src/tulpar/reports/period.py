"""The date range a report covers: whole local (Asia/Almaty) days, both ends included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tulpar import clock
from tulpar.errors import InvalidInputError

DEFAULT_DAYS = 30
MAX_DAYS = 366


class ReportPeriodInvalidError(InvalidInputError):
    code = "report_period_invalid"
    title = "Choose a valid date range"


@dataclass(frozen=True, slots=True)
class Period:
    first_on: date
    last_on: date

    @property
    def starts_at(self) -> datetime:
        """Local midnight opening ``first_on``, in UTC."""
        return _local_midnight(self.first_on)

    @property
    def ends_at(self) -> datetime:
        """Local midnight after ``last_on``, in UTC (exclusive)."""
        return _local_midnight(self.last_on + timedelta(days=1))

    def days(self) -> list[date]:
        return [
            self.first_on + timedelta(days=n)
            for n in range((self.last_on - self.first_on).days + 1)
        ]


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_zone()).astimezone(UTC)


def parse(first: str | None, last: str | None, *, now: datetime | None = None) -> Period:
    """The period from ``YYYY-MM-DD`` strings; missing ones default to the last 30 local days
    up to today. Refuses unreadable dates, an end before the start, or more than a year."""
    today = clock.to_local(now or clock.now()).date()
    try:
        last_on = date.fromisoformat(last) if last else today
        first_on = (
            date.fromisoformat(first) if first else last_on - timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError as error:
        raise ReportPeriodInvalidError("Dates are written YYYY-MM-DD") from error
    if last_on < first_on:
        raise ReportPeriodInvalidError("The range ends before it starts")
    if (last_on - first_on).days + 1 > MAX_DAYS:
        raise ReportPeriodInvalidError("A report covers at most 366 days")
    return Period(first_on, last_on)
