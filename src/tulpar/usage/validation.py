"""Checking one usage record as the carrier sent it (JSON object or CSV row)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from operator import attrgetter, methodcaller
from typing import NamedTuple, cast

from tulpar.errors import InvalidInputError
from tulpar.identifiers import Iccid, Msisdn, parse_card_reference
from tulpar.models import UsageKind
from tulpar.rating.service import MAX_RECORD_QUANTITY

FIELDS = ("source", "record_id", "card", "kind", "quantity", "occurred_at")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)
# The same times, one per line, matched over a whole batch at once (ASCII digits only: a batch
# with any other falls back to the record-by-record checks, which say what is wrong).
_RFC3339_LINES = re.compile(
    r"(?:\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:[Zz]|[+-]\d\d:\d\d)\n)*", re.ASCII
)
_KINDS = {kind.value: kind for kind in UsageKind}
_IMSI = re.compile(r"^[0-9]{14,15}$")
_SEPARATORS = re.compile(r"[\s\-]")


def _is_key_text(value: str) -> bool:
    """Printable ASCII without spaces (three C calls: several times cheaper than a regex)."""
    return value.isascii() and value.isprintable() and " " not in value


class RecordRejectedError(InvalidInputError):
    """One record is unusable; the rest of its batch goes on."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.reason_code = code


class OccurredWindow(NamedTuple):
    """The times a record may have happened at: not before ``earliest`` (the horizon back),
    not after ``latest`` (now, plus the drift allowed to the carrier's clock)."""

    earliest: datetime
    latest: datetime

    @classmethod
    def around(cls, now: datetime, *, max_age: timedelta, tolerance: timedelta) -> OccurredWindow:
        return cls(now - max_age, now + tolerance)


class CardKey(NamedTuple):
    """How a record names its card: ``iccid``, ``msisdn`` or ``imsi`` and the value."""

    by: str
    value: str


class ParsedUsage(NamedTuple):
    source: str
    record_id: str
    card: CardKey
    kind: UsageKind
    quantity: int
    occurred_at: datetime


def parse_record(raw: Mapping[str, object], *, window: OccurredWindow) -> ParsedUsage:
    """Validate ``raw``, one record as the carrier sent it."""
    parsed = _clean(raw, window=window)
    if parsed is not None:
        return parsed
    if not isinstance(raw, Mapping):
        raise RecordRejectedError("invalid_record", "a record is a JSON object")
    source = _key_text(raw.get("source"), "source", 64)
    record_id = _key_text(raw.get("record_id"), "record_id", 128)
    return ParsedUsage(
        source=source,
        record_id=record_id,
        card=_card(raw.get("card")),
        kind=_kind(raw.get("kind")),
        quantity=_quantity(raw.get("quantity")),
        occurred_at=_occurred_at(raw.get("occurred_at"), window=window),
    )


class CleanBatch(NamedTuple):
    """A batch every record of which is clean, field by field (position i is record i)."""

    sources: list[str]
    record_ids: list[str]
    cards: list[CardKey]
    kinds: list[UsageKind]
    quantities: list[int]
    occurred_at: list[datetime]  # in UTC


_to_utc = methodcaller("astimezone", UTC)
_zone_of = attrgetter("tzinfo")
_FIELD_TYPES = (str, str, str, str, int, str)  # exactly, as in _clean (a bool is no quantity)


def parse_clean_batch(raws: Sequence[object], *, window: OccurredWindow) -> CleanBatch | None:
    """The usual batch, checked a field at a time over all its records: what :func:`_clean`
    accepts one by one, each check a few C calls for the whole batch instead of dozens of
    Python steps per record. None when any record is not clean: the batch then goes through
    :func:`parse_record`, record by record, which gives every record the same answer."""
    if not raws or set(map(type, raws)) != {dict}:
        return None
    records = cast(Sequence[dict[str, object]], raws)
    columns = [list(map(dict.get, records, repeat(name))) for name in FIELDS]
    if any(
        set(map(type, column)) != {kind} for column, kind in zip(columns, _FIELD_TYPES, strict=True)
    ):
        return None
    sources, record_ids, cards, kinds, times = (
        cast(list[str], columns[index]) for index in (0, 1, 2, 3, 5)
    )
    quantities = cast(list[int], columns[4])
    # A batch comes from a handful of sources: their lengths are checked once each.
    distinct_sources = set(sources)
    if not (
        min(map(len, distinct_sources)) > 0
        and max(map(len, distinct_sources)) <= 64
        and min(map(len, record_ids)) > 0
        and max(map(len, record_ids)) <= 128
        and min(quantities) > 0
        and max(quantities) <= MAX_RECORD_QUANTITY
        # every text is key text if and only if all of them joined are
        and _is_key_text("".join(distinct_sources) + "".join(record_ids))
    ):
        return None
    lines = "\n".join(times) + "\n"
    # One time per line: no time may hold a line break of its own.
    if lines.count("\n") != len(times) or _RFC3339_LINES.fullmatch(lines) is None:
        return None
    usage_kinds = list(map(_KINDS.get, kinds))
    card_keys = list(map(_card_key, cards))
    if None in usage_kinds or set(map(type, card_keys)) != {CardKey}:
        return None
    try:
        # The times are ASCII: upper-casing all of them at once is upper-casing each.
        moments = list(
            map(datetime.fromisoformat, lines[:-1].upper().replace("Z", "+00:00").split("\n"))
        )
        # As in _clean: compared before converting, so the conversion cannot overflow.
        if not (window.earliest <= min(moments) and max(moments) <= window.latest):
            return None
    except (ValueError, OverflowError):
        return None
    # Times given in UTC (the usual) are read as UTC already: converting them is a no-op.
    if set(map(_zone_of, moments)) != {UTC}:
        moments = list(map(_to_utc, moments))
    return CleanBatch(
        sources,
        record_ids,
        cast(list[CardKey], card_keys),
        cast(list[UsageKind], usage_kinds),
        quantities,
        moments,
    )


def _clean(raw: object, *, window: OccurredWindow) -> ParsedUsage | None:
    """The usual case in one pass: a record with nothing to trim or convert. None sends
    anything else through the field-by-field checks, which explain what is wrong."""
    if type(raw) is not dict:
        return None
    source, record_id, card, kind, quantity, occurred_at = (
        raw.get("source"),
        raw.get("record_id"),
        raw.get("card"),
        raw.get("kind"),
        raw.get("quantity"),
        raw.get("occurred_at"),
    )
    if not (
        type(source) is str
        and type(record_id) is str
        and type(quantity) is int
        and type(occurred_at) is str
        and 0 < len(source) <= 64
        and 0 < len(record_id) <= 128
        and 0 < quantity <= MAX_RECORD_QUANTITY
        and _is_key_text(source)
        and _is_key_text(record_id)
        and _RFC3339.match(occurred_at)
    ):
        return None
    usage_kind = _KINDS.get(kind) if type(kind) is str else None
    card_key = _card_key(card) if type(card) is str else None
    if usage_kind is None or not isinstance(card_key, CardKey):
        return None
    try:
        moment = datetime.fromisoformat(occurred_at.upper().replace("Z", "+00:00"))
        # Comparing first: the window lies far inside datetime's range, so a moment in it
        # converts to UTC without overflow (year 1 or 9999 with an offset would not).
        if not window.earliest <= moment <= window.latest:
            return None
    except (ValueError, OverflowError):
        return None
    return ParsedUsage(source, record_id, card_key, usage_kind, quantity, moment.astimezone(UTC))


def _key_text(value: object, name: str, longest: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordRejectedError(f"invalid_{name}", f"{name} is missing")
    text = value.strip()
    if len(text) > longest or not _is_key_text(text):
        raise RecordRejectedError(
            f"invalid_{name}", f"{name} has 1 to {longest} printable characters and no spaces"
        )
    return text


def _kind(value: object) -> UsageKind:
    kind = _KINDS.get(value.strip()) if isinstance(value, str) else None
    if kind is not None:
        return kind
    raise RecordRejectedError("invalid_kind", "kind must be data, voice or sms")


def _quantity(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise RecordRejectedError(
            "invalid_quantity", "quantity must be a whole number greater than 0"
        )
    if value > MAX_RECORD_QUANTITY:
        raise RecordRejectedError(
            "invalid_quantity", f"quantity must not exceed {MAX_RECORD_QUANTITY}"
        )
    return value


def _occurred_at(value: object, *, window: OccurredWindow) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value.strip()):
        raise RecordRejectedError(
            "invalid_occurred_at",
            "occurred_at must be RFC 3339 with an offset, e.g. 2026-11-24T10:00:00+05:00",
        )
    try:
        moment = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    except ValueError as error:
        raise RecordRejectedError(
            "invalid_occurred_at", "occurred_at is not a real time"
        ) from error
    try:
        too_old, too_new = moment < window.earliest, moment > window.latest
        if not (too_old or too_new):
            return moment.astimezone(UTC)
        moment.astimezone(UTC)  # raises for year 1 or 9999 shifted out of datetime's range
    except OverflowError as error:
        raise RecordRejectedError(
            "occurred_at_out_of_range", "occurred_at is outside the range of real times"
        ) from error
    if too_old:
        raise RecordRejectedError(
            "too_old", f"occurred_at is before {window.earliest:%Y-%m-%d %H:%M} UTC, the horizon"
        )
    raise RecordRejectedError("occurred_in_future", "occurred_at is in the future")


def _card(value: object) -> CardKey:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordRejectedError("invalid_card", "card is missing")
    known = _card_key(value)
    if isinstance(known, str):
        raise RecordRejectedError("invalid_card", known)
    return known


@lru_cache(maxsize=65_536)  # the same cards come back batch after batch
def _card_key(value: str) -> CardKey | str:
    compact = _SEPARATORS.sub("", value)
    if _IMSI.match(compact):
        return CardKey("imsi", compact)
    try:
        reference = parse_card_reference(value)
    except InvalidInputError as error:
        return "card must be an ICCID, an MSISDN or an IMSI: " + error.detail
    if isinstance(reference, Iccid):
        return CardKey("iccid", reference.value)
    assert isinstance(reference, Msisdn)
    return CardKey("msisdn", reference.value)
