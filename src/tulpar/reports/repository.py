"""The queries of settling: the horizon row, the dirty marks, the rollup rows of a day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tulpar.reports.rollup import Rollup
from tulpar.reports.statement import settle_values


@dataclass(frozen=True, slots=True)
class Horizon:
    settled_through: date | None
    marks_before: datetime | None
    marks_moved_at: datetime | None


@dataclass(frozen=True, slots=True)
class Mark:
    id: int
    report: str
    moment: datetime


def move_marks(session: Session, before: datetime) -> bool:
    """Late writes before ``before`` are marked from this transaction's commit on; True if the
    horizon moved (the moment it moved is stamped by :func:`stamp_marks_moved`)."""
    moved = session.execute(
        text(
            """
            INSERT INTO report_horizon AS h (id, marks_before) VALUES (1, :before)
            ON CONFLICT (id) DO UPDATE SET marks_before = :before, marks_moved_at = NULL
            WHERE h.marks_before IS NULL OR h.marks_before < :before
            """
        ),
        {"before": before},
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def locked_horizon(session: Session) -> Horizon:
    """The horizon, stamped with when its marks last moved if not yet, and locked until the
    transaction ends: one settling at a time (the triggers only read it, and never wait)."""
    session.execute(
        text(
            "UPDATE report_horizon SET marks_moved_at = clock_timestamp() "
            "WHERE marks_moved_at IS NULL AND marks_before IS NOT NULL"
        )
    )
    row = session.execute(
        text("SELECT settled_through, marks_before, marks_moved_at FROM report_horizon FOR UPDATE")
    ).one_or_none()
    if row is None:  # emptied (the tests' TRUNCATE): nothing settled, nothing marked
        return Horizon(None, None, None)
    return Horizon(row.settled_through, row.marks_before, row.marks_moved_at)


def older_transactions(session: Session, since: datetime) -> int:
    """Other clients' transactions on this database that began before ``since`` and are still
    open. Autovacuum writes no report's rows, so it is not waited for. Another role's
    transactions show only to a member of pg_read_all_stats: Tulpar's web and worker
    processes share one role."""
    # The activity view is read once per transaction and kept: read it afresh.
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    count: int = session.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND xact_start < :since"
        ),
        {"since": since},
    ).scalar_one()
    return count


def first_moment(session: Session) -> datetime | None:
    """The earliest moment any report counts (before the first settling: where it starts)."""
    moment: datetime | None = session.execute(
        text(
            """
            SELECT least(
                (SELECT min(created_at) FROM orders),
                (SELECT min(created_at) FROM notifications WHERE channel = 'sms'),
                (SELECT min(created_at) FROM promotion_redemptions),
                (SELECT min(replaced_validity_ends_at) FROM bundles),
                (SELECT min(validity_ends_at) FROM cards)
            )
            """
        )
    ).scalar_one()
    return moment


def marks_before(session: Session, before: datetime) -> list[Mark]:
    rows = session.execute(
        text("SELECT id, report, moment FROM report_dirty_days WHERE moment < :before"),
        {"before": before},
    )
    return [Mark(row.id, row.report, row.moment) for row in rows]


def forget_marks(session: Session, ids: Sequence[int]) -> None:
    session.execute(text("DELETE FROM report_dirty_days WHERE id = ANY(:ids)"), {"ids": list(ids)})


def rewrite_days(session: Session, rollup: Rollup, days: Sequence[date]) -> None:
    """Replace ``rollup``'s rows of ``days`` (sorted) with their figures as they stand."""
    session.execute(
        text(f"DELETE FROM {rollup.table} WHERE day = ANY(:days)"),
        {"days": list(days)},
    )
    values: dict[str, Any] = {**settle_values(days), **rollup.values}
    session.execute(text("SET LOCAL jit = off"))
    session.execute(rollup.insert, values)


def set_settled(session: Session, through: date, before: datetime) -> None:
    session.execute(
        text("UPDATE report_horizon SET settled_through = :through, settled_before = :before"),
        {"through": through, "before": before},
    )
