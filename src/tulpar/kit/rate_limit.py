"""Token buckets kept in this process's memory, answered 429 with ``Retry-After``.

In memory, not in PostgreSQL: a limit must cost nothing on the balance read, the hottest path
(a shared counter would be a write per request). So each web process counts on its own and
the effective limit with N web processes is N times the setting; that is the price of a
limit that adds no round trip. Time comes from :func:`tulpar.clock.now`, so a test freezes
and moves it instead of sleeping."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tulpar import clock
from tulpar.config import Settings
from tulpar.errors import TulparError

# A bucket full again is forgotten; past this many keys the full ones are swept out, so
# many distinct callers cannot grow memory without bound.
_SWEEP_AT = 50_000


class RateLimitedError(TulparError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


def _seconds() -> float:
    return clock.now().timestamp()


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


class TokenBucket:
    """``capacity`` requests at once, refilled at ``capacity`` per ``period_seconds``: on
    average no more than ``capacity`` a period, a burst of up to ``capacity`` allowed."""

    def __init__(
        self,
        capacity: int,
        *,
        period_seconds: float = 60.0,
        now: Callable[[], float] = _seconds,
    ) -> None:
        if capacity < 1 or period_seconds <= 0:
            raise ValueError("a bucket holds at least one request over a positive period")
        self.capacity = capacity
        self.rate = capacity / period_seconds
        self._now = now
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, key: str, at: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _SWEEP_AT:
                self._sweep(at)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.capacity), updated_at=at)
        elapsed = max(0.0, at - bucket.updated_at)
        bucket.tokens = min(float(self.capacity), bucket.tokens + elapsed * self.rate)
        bucket.updated_at = at
        return bucket

    def _sweep(self, at: float) -> None:
        full_after = self.capacity / self.rate
        for key in [k for k, b in self._buckets.items() if at - b.updated_at >= full_after]:
            del self._buckets[key]

    def _wait(self, bucket: _Bucket, needed: float) -> int:
        # Rounded first: 0.05 / 0.05 in floating point must wait 1 s, not 2.
        return max(1, math.ceil(round((needed - bucket.tokens) / self.rate, 6)))

    def take(self, key: str) -> int | None:
        """Use one request of ``key``'s bucket: ``None`` if allowed, else the whole seconds
        until one is."""
        with self._lock:
            bucket = self._refilled(key, self._now())
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return self._wait(bucket, 1.0)

    def exhausted(self, key: str) -> int | None:
        """Like :meth:`take` without using anything: the seconds to wait, or ``None``."""
        with self._lock:
            bucket = self._refilled(key, self._now())
            return None if bucket.tokens >= 1.0 else self._wait(bucket, 1.0)

    def spend(self, key: str) -> None:
        """Use one request even if none is left (a failure counted after the fact)."""
        with self._lock:
            bucket = self._refilled(key, self._now())
            bucket.tokens = max(-1.0 * self.capacity, bucket.tokens - 1.0)


def refuse(retry_after_seconds: int, what: str) -> RateLimitedError:
    return RateLimitedError(
        f"Too many {what}; try again in {retry_after_seconds} s",
        retry_after_seconds=retry_after_seconds,
    )


class RateLimits:
    """The API's limits, one set per web process (``app.state.rate_limits``). A limit of 0
    is off."""

    def __init__(
        self,
        *,
        card_per_minute: int,
        bad_credentials_per_minute: int,
        anonymous_per_minute: int,
        now: Callable[[], float] = _seconds,
    ) -> None:
        self._now = now
        self._card = _bucket(card_per_minute, now)
        self._bad_credentials = _bucket(bad_credentials_per_minute, now)
        self._anonymous = _bucket(anonymous_per_minute, now)
        self._partner_buckets: dict[int, TokenBucket] = {}  # by requests a minute
        self._lock = threading.Lock()

    def check_card(self, caller_key: str, card: str) -> None:
        """One read of ``card`` (as normalised) by the caller keyed ``caller_key``."""
        _take(self._card, f"{caller_key}\x00{card}", "requests for this card")

    def check_anonymous(self, address: str) -> None:
        """One call without credentials from ``address``."""
        _take(self._anonymous, address, "requests without credentials from this address")

    def check_bad_credentials(self, address: str) -> None:
        """Refuse ``address`` before its credentials are even looked at once it has used up
        its refused credentials."""
        if self._bad_credentials is not None:
            wait = self._bad_credentials.exhausted(address)
            if wait is not None:
                raise refuse(wait, "refused credentials from this address")

    def count_bad_credentials(self, address: str) -> None:
        if self._bad_credentials is not None:
            self._bad_credentials.spend(address)

    def check_partner(self, partner_id: int, requests_per_minute: int | None) -> None:
        """One call with any of a partner's keys, if the partner has a limit of its own."""
        if requests_per_minute is None:
            return
        with self._lock:
            bucket = self._partner_buckets.get(requests_per_minute)
            if bucket is None:
                bucket = self._partner_buckets[requests_per_minute] = TokenBucket(
                    requests_per_minute, now=self._now
                )
        _take(bucket, str(partner_id), "requests with this partner's keys")


def _bucket(per_minute: int, now: Callable[[], float]) -> TokenBucket | None:
    return TokenBucket(per_minute, now=now) if per_minute > 0 else None


def _take(bucket: TokenBucket | None, key: str, what: str) -> None:
    if bucket is None:
        return
    wait = bucket.take(key)
    if wait is not None:
        raise refuse(wait, what)


def rate_limits(settings: Settings) -> RateLimits:
    """The limits the settings ask for (``rate_limit_*``)."""
    return RateLimits(
        card_per_minute=settings.rate_limit_card_per_minute,
        bad_credentials_per_minute=settings.rate_limit_bad_credentials_per_minute,
        anonymous_per_minute=settings.rate_limit_anonymous_per_minute,
    )
