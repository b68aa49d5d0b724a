"""Settling the reports' days: each local day that has ended gets its rollup rows once, and
a settled day a late write touched (marked by migration 0022's triggers) gets them again.

Two steps, in two transactions:

1. :func:`open_days` moves the marking horizon to today's local midnight: from its commit
   on, a write on any earlier day is marked dirty.
2. :func:`settle` writes the rollups of the new days, but only once every transaction that
   began before the horizon moved has ended: such a transaction may have read the old
   horizon and written to one of those days without a mark, and this statement's snapshot
   might not see its write. Until then the new days wait (and are read live) — a report
   never misses a write. The settled days marked dirty are recomputed every time; the marks
   read are forgotten in the same transaction, those that come later stay for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.reports import failures, promotions, renewals, repository, revenue, sms
from tulpar.reports.period import Period
from tulpar.reports.rollup import Rollup

ROLLUPS: tuple[Rollup, ...] = (
    revenue.ROLLUP,
    renewals.ROLLUP,
    failures.ROLLUP,
    promotions.ROLLUP,
    sms.ROLLUP,
)


@dataclass(frozen=True, slots=True)
class Settled:
    settled_through: date | None  # the last settled day after this run
    new_days: int = 0  # days settled for the first time
    dirty_days: dict[str, int] = field(default_factory=dict)  # recomputed, per report
    waiting: bool = False  # new days wait for older transactions to end
    more: bool = False  # more new days than ``max_new_days``: run again


def open_days(session: Session, *, now: datetime) -> bool:
    """Mark late writes on every day before today (local) from this transaction's commit;
    True if the horizon moved."""
    today = clock.to_local(now).date()
    return repository.move_marks(session, _opens(today))


def settle(session: Session, *, now: datetime, max_new_days: int | None = None) -> Settled:
    """Recompute the settled days marked dirty and settle the new days that have ended, at
    most ``max_new_days`` of them (the oldest first)."""
    horizon = repository.locked_horizon(session)
    if horizon.marks_before is None or horizon.marks_moved_at is None:
        return Settled(horizon.settled_through)
    settled_through = horizon.settled_through
    last_ended = min(
        clock.to_local(horizon.marks_before).date(), clock.to_local(now).date()
    ) - timedelta(days=1)
    waiting = bool(repository.older_transactions(session, horizon.marks_moved_at))
    new_days: list[date] = []
    if not waiting and (settled_through is None or settled_through < last_ended):
        # Nothing written yet: the days that have ended are settled empty.
        first_new = _first_new_day(session, settled_through) or last_ended
        if first_new <= last_ended:
            new_days = Period(first_new, last_ended).days()
    more = max_new_days is not None and len(new_days) > max_new_days
    if more:
        new_days = new_days[:max_new_days]
    if new_days:
        settled_through = new_days[-1]
    if settled_through is None:
        return Settled(None, waiting=waiting)

    marks = repository.marks_before(session, _opens(settled_through + timedelta(days=1)))
    dirty: dict[str, set[date]] = {rollup.report: set() for rollup in ROLLUPS}
    for mark in marks:
        dirty[mark.report].add(clock.to_local(mark.moment).date())
    for rollup in ROLLUPS:
        days = sorted(dirty[rollup.report].union(new_days))
        if days:
            repository.rewrite_days(session, rollup, days)
    repository.forget_marks(session, [mark.id for mark in marks])
    repository.set_settled(session, settled_through, _opens(settled_through + timedelta(days=1)))
    return Settled(
        settled_through,
        new_days=len(new_days),
        dirty_days={report: len(days - set(new_days)) for report, days in dirty.items() if days},
        waiting=waiting,
        more=more,
    )


def _first_new_day(session: Session, settled_through: date | None) -> date | None:
    if settled_through is not None:
        return settled_through + timedelta(days=1)
    first = repository.first_moment(session)
    return None if first is None else clock.to_local(first).date()


def _opens(day: date) -> datetime:
    """Local midnight opening ``day``, in UTC."""
    return Period(day, day).starts_at
