"""Taking in the carrier's usage records (API batches and CSV imports alike): check each
record on its own, find its card, drop repeats, then store and rate the good ones together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from typing import NamedTuple, cast

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError
from tulpar.rating import service as rating_service
from tulpar.rating.service import UsageToRate
from tulpar.usage import repository
from tulpar.usage.validation import (
    CardKey,
    CleanBatch,
    OccurredWindow,
    ParsedUsage,
    RecordRejectedError,
    parse_clean_batch,
    parse_record,
)

MAX_BATCH_RECORDS = 10_000
ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"


class RecordResult(NamedTuple):
    position: int  # in the batch
    status: str  # accepted | duplicate | rejected
    source: str | None = None
    record_id: str | None = None
    code: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class IngestReport:
    results: list[RecordResult] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


def ingest(
    session: Session, raw_records: Sequence[Mapping[str, object]], *, now: datetime | None = None
) -> IngestReport:
    """Validate, store and rate one batch. A record is ``accepted`` when this batch stored
    and rated it, ``duplicate`` when its (source, record id) was seen before (in this batch or
    any earlier one), ``rejected`` with a reason otherwise. Good records go in even when
    others are bad."""
    if len(raw_records) > MAX_BATCH_RECORDS:
        raise InvalidInputError(f"A batch holds at most {MAX_BATCH_RECORDS:,} records")
    now = now or clock.now()
    settings = get_settings()
    window = OccurredWindow.around(
        now,
        max_age=timedelta(days=settings.usage_max_age_days),
        tolerance=timedelta(seconds=settings.usage_future_tolerance_seconds),
    )
    clean = parse_clean_batch(raw_records, window=window)
    outcomes: list[ParsedUsage | RecordRejectedError]
    if clean is not None:
        card_ids = _resolve_cards(session, set(clean.cards))
        found = list(map(card_ids.get, clean.cards))
        if None not in found:
            return _ingest_clean(session, clean, cast(list[int], found), now=now)
        outcomes = list(map(ParsedUsage, *clean))
    else:
        outcomes = []
        for raw in raw_records:
            try:
                outcomes.append(parse_record(raw, window=window))
            except RecordRejectedError as error:
                outcomes.append(error)
        card_ids = _resolve_cards(session, {o.card for o in outcomes if isinstance(o, ParsedUsage)})

    to_rate: list[UsageToRate] = []
    first_index: dict[tuple[str, str], int] = {}
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, RecordRejectedError):
            continue
        card_id = card_ids.get(outcome.card)
        if card_id is None:
            outcomes[index] = RecordRejectedError("card_not_found", "no card with this number")
            continue
        key = (outcome.source, outcome.record_id)
        if first_index.setdefault(key, index) != index:
            continue
        to_rate.append(
            UsageToRate(
                outcome.source,
                outcome.record_id,
                card_id,
                outcome.kind,
                outcome.quantity,
                outcome.occurred_at,
            )
        )

    already_stored = rating_service.rate(session, to_rate, now=now).already_stored
    # positions of the records rated now: the first of each key, unless stored before
    fresh = set(first_index.values()).difference(first_index[key] for key in already_stored)
    report = IngestReport(accepted=len(fresh))
    results = report.results
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, RecordRejectedError):
            raw = raw_records[index]
            results.append(
                RecordResult(
                    index,
                    REJECTED,
                    _text_or_none(raw, "source"),
                    _text_or_none(raw, "record_id"),
                    outcome.reason_code,
                    outcome.detail,
                )
            )
            report.rejected += 1
        else:
            status = ACCEPTED if index in fresh else DUPLICATE
            results.append(RecordResult(index, status, outcome.source, outcome.record_id))
    report.duplicates = len(results) - report.accepted - report.rejected
    return report


# A named tuple of each row, as its ``_make`` does it, without a Python call per row.
_new_tuple = tuple.__new__


def _ingest_clean(
    session: Session, clean: CleanBatch, card_ids: list[int], *, now: datetime
) -> IngestReport:
    """:func:`ingest` for a batch whose records are all clean and whose cards are all known:
    the same report, built a field at a time instead of a record at a time."""
    count = len(card_ids)
    keys = list(zip(clean.sources, clean.record_ids, strict=True))
    # each key's first position: written last, from the end backwards
    first_index = dict(zip(reversed(keys), range(count - 1, -1, -1), strict=True))
    to_rate = list(
        map(
            _new_tuple,
            repeat(UsageToRate),
            zip(
                clean.sources,
                clean.record_ids,
                card_ids,
                clean.kinds,
                clean.quantities,
                clean.occurred_at,
                strict=True,
            ),
        )
    )
    repeats: set[int] = set()
    if len(first_index) < count:
        repeats = set(range(count)).difference(first_index.values())
        to_rate = [to_rate[index] for index in sorted(first_index.values())]

    already_stored = rating_service.rate(session, to_rate, now=now).already_stored
    duplicates = repeats.union(first_index[key] for key in already_stored)
    statuses = [ACCEPTED] * count
    for index in duplicates:
        statuses[index] = DUPLICATE
    no_code, no_reason = repeat(None, count), repeat(None, count)
    results = list(
        map(
            _new_tuple,
            repeat(RecordResult),
            zip(
                range(count),
                statuses,
                clean.sources,
                clean.record_ids,
                no_code,
                no_reason,
                strict=True,
            ),
        )
    )
    return IngestReport(results, count - len(duplicates), len(duplicates), 0)


def _resolve_cards(session: Session, cards: set[CardKey]) -> dict[CardKey, int]:
    """The card id of each of ``cards`` (distinct) that names a card."""
    wanted: dict[str, set[str]] = {"iccid": set(), "msisdn": set(), "imsi": set()}
    for card in cards:
        wanted[card.by].add(card.value)
    ids = {by: repository.card_ids(session, by, values) for by, values in wanted.items()}
    return {card: ids[card.by][card.value] for card in cards if card.value in ids[card.by]}


def _text_or_none(raw: object, name: str) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    value = raw.get(name)
    return str(value)[:128] if isinstance(value, str | int) and value != "" else None
