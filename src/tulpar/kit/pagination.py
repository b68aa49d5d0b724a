"""Cursor pagination for the API's lists: keyset positions in opaque, tamper-evident cursors.

A list is read newest first by a key that only grows — ``(created_at, id)`` or a day — and a
page asks for the rows *after* the last one shown (``WHERE key < :position``), never an
OFFSET: rows inserted while a client walks the pages land before its position, so the walk
sees every row that existed when it started exactly once, with no duplicate and no gap. (One
limit of keying on ``created_at``: PostgreSQL's ``now()`` is the inserting transaction's
start, so a row whose transaction began before a page was read but committed after it can
fall behind that walk's position; the walk misses it, the next one sees it.)

A cursor is ``base64url(JSON position) . base64url(HMAC tag)``. The tag covers the position
and the list's *scope* (which list, whose, with which filters), so a cursor that was edited,
truncated, or issued for another list or another partner is refused with 422
``cursor_invalid`` instead of silently reading from somewhere else. Tenancy never rests on
the cursor (each query still filters by the caller), the tag only makes mistakes loud."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from tulpar.errors import InvalidInputError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 512
_TAG_BYTES = 16  # 128 bits: enough that a guessed tag is never accepted
_VERSION = 1

P = TypeVar("P")  # a position in a list
T = TypeVar("T")  # an item of a page

TimeAndId = tuple[datetime, int]


class CursorInvalidError(InvalidInputError):
    code = "cursor_invalid"
    title = "Invalid cursor"


_REFUSAL = (
    "This cursor was not issued for this list (or was changed); pass back the next_cursor"
    " of the previous page unchanged, or start again without one"
)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class Keyset(Generic[P]):
    """How one kind of position is written into a cursor and read back."""

    dump: Callable[[P], list[Any]]
    load: Callable[[list[Any]], P]  # raises ValueError/TypeError/KeyError on a bad shape


def _dump_time_and_id(position: TimeAndId) -> list[Any]:
    at, row_id = position
    return [at.astimezone(UTC).isoformat(), row_id]


def _load_time_and_id(values: list[Any]) -> TimeAndId:
    at_text, row_id = values
    if not isinstance(at_text, str) or type(row_id) is not int:
        raise TypeError("a position is [time, id]")
    at = datetime.fromisoformat(at_text)
    if at.tzinfo is None:
        raise ValueError("a position's time has its offset")
    return at, row_id


def _load_day(values: list[Any]) -> date:
    (day_text,) = values
    if not isinstance(day_text, str):
        raise TypeError("a position is [day]")
    return date.fromisoformat(day_text)


BY_TIME_AND_ID: Keyset[TimeAndId] = Keyset(dump=_dump_time_and_id, load=_load_time_and_id)
BY_DAY: Keyset[date] = Keyset(dump=lambda day: [day.isoformat()], load=_load_day)


@dataclass(frozen=True, slots=True)
class Cursors(Generic[P]):
    """Cursors of one list for one caller: ``scope`` names the list, its owner and filters
    (e.g. ``orders|partner:7|state=paid``); ``key`` signs them."""

    keyset: Keyset[P]
    scope: str
    key: bytes

    def encode(self, position: P) -> str:
        body = json.dumps([_VERSION, *self.keyset.dump(position)], separators=(",", ":"))
        payload = body.encode()
        return f"{_b64(payload)}.{_b64(self._tag(payload))}"

    def decode(self, cursor: str | None) -> P | None:
        """The position ``cursor`` stands for (None: the first page)."""
        if cursor is None:
            return None
        payload_text, dot, tag_text = cursor.partition(".")
        if not dot or len(cursor) > MAX_CURSOR_LENGTH:
            raise CursorInvalidError(_REFUSAL)
        try:
            payload, tag = _unb64(payload_text), _unb64(tag_text)
        except (ValueError, binascii.Error) as error:
            raise CursorInvalidError(_REFUSAL) from error
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise CursorInvalidError(_REFUSAL)
        try:
            version, *values = json.loads(payload)
            if version != _VERSION:
                raise ValueError("another cursor version")
            return self.keyset.load(values)
        except (ValueError, TypeError, KeyError) as error:
            raise CursorInvalidError(_REFUSAL) from error

    def page(self, rows: Sequence[T], *, limit: int, position_of: Callable[[T], P]) -> Page[T]:
        """A page from up to ``limit + 1`` rows read after the position: the extra row, when
        there is one, only says that another page follows."""
        items = list(rows[:limit])
        more = len(rows) > limit and bool(items)
        return Page(items, self.encode(position_of(items[-1])) if more else None)

    def _tag(self, payload: bytes) -> bytes:
        message = self.scope.encode() + b"\n" + payload
        return hmac.new(self.key, message, hashlib.sha256).digest()[:_TAG_BYTES]


def check_limit(limit: int) -> int:
    """``limit`` within 1..MAX_LIMIT (the API's query validation says so first)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit is between 1 and {MAX_LIMIT}")
    return limit


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
