"""The one place that reads the wall clock, so tests can move time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tulpar.config import get_settings

_frozen_at: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().local_timezone)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Pin :func:`now` to ``at`` (for tests and deterministic demo runs)."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    previous, _frozen_at = _frozen_at, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen_at = previous


def days(count: int) -> timedelta:
    return timedelta(days=count)
