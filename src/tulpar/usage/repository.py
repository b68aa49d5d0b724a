from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import ColumnElement, Date, cast, func, select
from sqlalchemy.orm import Session

from tulpar.db import driver_rows
from tulpar.models import UsageKind, UsageRecord

# A recycled number may be on a terminated card and a live one: the live card wins.
_BY_MSISDN = """
    SELECT DISTINCT ON (msisdn) msisdn, id FROM cards WHERE msisdn = ANY (string_to_array(%s, ','))
    ORDER BY msisdn, state = 'terminated', id DESC
"""
_BY_ICCID = "SELECT iccid, id FROM cards WHERE iccid = ANY (string_to_array(%s, ','))"
_BY_IMSI = "SELECT imsi, id FROM cards WHERE imsi = ANY (string_to_array(%s, ','))"
_QUERIES = {"iccid": _BY_ICCID, "msisdn": _BY_MSISDN, "imsi": _BY_IMSI}
# A lookup of more numbers than this is planned for its own numbers, never prepared: the
# server's plan for any numbers (which the driver's prepared statement gets after a few
# batches) guesses ten and walks the index once per number, 10 ms for 4,000 numbers, where
# the plan for the batch's numbers hashes them and scans the cards (2 ms, planning included).
# Fewer numbers keep the prepared plan: planning them each time costs more than it saves.
_PLANNED_FOR_THEIR_NUMBERS_ABOVE = 1_000


def card_ids(session: Session, by: str, values: Collection[str]) -> dict[str, int]:
    """Card ids for many ICCIDs, MSISDNs or IMSIs in one query (``by`` says which).

    Thousands of numbers per batch travel as one comma-joined text, split by the server: joining
    is one C call, where an array parameter is built element by element in Python. (The numbers
    are normalised digits and "+", never a comma.)"""
    if not values:
        return {}
    prepare = False if len(values) > _PLANNED_FOR_THEIR_NUMBERS_ABOVE else None
    return dict(driver_rows(session, _QUERIES[by], [",".join(values)], prepare=prepare))


def _sum_of(kind: UsageKind) -> ColumnElement[int]:
    return func.coalesce(func.sum(UsageRecord.quantity).filter(UsageRecord.kind == kind), 0)


def daily_totals(
    session: Session, card_id: int, *, zone: str, before: datetime | None, limit: int
) -> list[tuple[date, int, int, int]]:
    """Up to ``limit`` days (in ``zone``) on which the card used anything, newest first, with
    the quantities of each kind that occurred on each: (day, data bytes, voice seconds, SMS).
    ``before``: only usage that occurred before this moment (the start of a day in ``zone``).

    Every record counts, whether a bundle covered it or it was overage: this is what was used,
    not what was deducted. The table has no index by card on purpose (each index is paid on
    the busiest insert, see :class:`UsageRecord`), so this scans it: fine for a partner's
    occasional history read, not for a hot path."""
    day = cast(func.timezone(zone, UsageRecord.occurred_at), Date).label("day")
    query = (
        select(day, _sum_of(UsageKind.data), _sum_of(UsageKind.voice), _sum_of(UsageKind.sms))
        .where(UsageRecord.card_id == card_id)
        .group_by(day)
        .order_by(day.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(UsageRecord.occurred_at < before)
    return [(day, data, voice, sms) for day, data, voice, sms in session.execute(query)]
