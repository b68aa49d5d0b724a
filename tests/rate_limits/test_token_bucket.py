from __future__ import annotations

import pytest

from tulpar.kit.rate_limit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.at = 1_000.0

    def __call__(self) -> float:
        return self.at


def test_a_bucket_allows_a_burst_then_one_more_per_refill_interval() -> None:
    now = FakeClock()
    bucket = TokenBucket(6, period_seconds=60, now=now)

    assert [bucket.take("a") for _ in range(6)] == [None] * 6
    assert bucket.take("a") == 10
    assert bucket.take("b") is None  # keys are counted apart
    now.at += 9.5
    assert bucket.take("a") == 1
    now.at += 0.5
    assert bucket.take("a") is None
    assert bucket.take("a") == 10


def test_failures_counted_after_the_fact_lock_out_for_longer() -> None:
    now = FakeClock()
    bucket = TokenBucket(2, period_seconds=60, now=now)

    for _ in range(4):
        bucket.spend("x")

    assert bucket.exhausted("x") == 90  # two over the limit: wait for three refills
    now.at += 90
    assert bucket.exhausted("x") is None


def test_a_full_bucket_is_forgotten_when_many_keys_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tulpar.kit.rate_limit._SWEEP_AT", 3)
    now = FakeClock()
    bucket = TokenBucket(1, period_seconds=60, now=now)
    for key in ("a", "b", "c"):
        bucket.take(key)
    now.at += 60

    bucket.take("d")

    assert set(bucket._buckets) == {"d"}
