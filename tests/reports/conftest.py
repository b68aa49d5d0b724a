"""Every report test with figures runs three times: nothing settled (all read live), the
first of the two fixture days settled (one from the rollups, one live), and both settled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from tulpar.reports import settlement

Settle = Callable[[Session], None]

# Noon local (UTC+5) on the day after the last one settled.
_SETTLED_THROUGH = {
    "none settled": None,
    "first day settled": date(2026, 11, 1),
    "both days settled": date(2026, 11, 2),
}


def settle_at(session: Session, now: datetime) -> settlement.Settled:
    """Both steps of settling, as the periodic job runs them (here in the test's transaction)."""
    settlement.open_days(session, now=now)
    result = settlement.settle(session, now=now)
    assert not result.waiting
    return result


def noon_after(day: date) -> datetime:
    return datetime(day.year, day.month, day.day + 1, 7, 0, tzinfo=UTC)


@pytest.fixture(params=list(_SETTLED_THROUGH))
def settle_as(request: pytest.FixtureRequest) -> Settle:
    """Call it once the fixture's rows are written."""
    through = _SETTLED_THROUGH[request.param]

    def settle(session: Session) -> None:
        if through is not None:
            assert settle_at(session, noon_after(through)).settled_through == through

    return settle
