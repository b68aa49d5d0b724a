"""A card's usage history as daily totals, in Kazakhstan's days (``Asia/Almaty``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller
from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.usage import repository


@dataclass(frozen=True, slots=True)
class DailyUsage:
    day: date  # local (Asia/Almaty) calendar day
    data_bytes: int
    voice_seconds: int
    sms_count: int


def start_of_day(day: date) -> datetime:
    """The UTC moment ``day`` begins in the local zone."""
    return datetime.combine(day, time.min, tzinfo=clock.local_zone()).astimezone(UTC)


def daily_totals(
    session: Session,
    caller: Caller,
    reference: str,
    *,
    before_day: date | None = None,
    limit: int,
) -> list[DailyUsage]:
    """Up to ``limit`` days before ``before_day`` on which the card used anything, newest
    first, if this caller may read the card (any other card is "not found")."""
    card = card_service.find(session, reference)
    auth_service.ensure_may_read_card(caller, card)
    rows = repository.daily_totals(
        session,
        card.id,
        zone=get_settings().local_timezone,
        before=None if before_day is None else start_of_day(before_day),
        limit=limit,
    )
    return [DailyUsage(day, int(data), int(voice), int(sms)) for day, data, voice, sms in rows]
