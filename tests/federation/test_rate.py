"""Token buckets: a burst, then one token per interval, per key; the wait is told."""

from __future__ import annotations

import pytest

from federation.rate import MAX_KEYS, RateLimit, TokenBucket


def test_a_burst_then_a_wait_that_names_the_seconds() -> None:
    bucket = TokenBucket(burst=3, per_second=0.5)

    taken = [bucket.take(100.0) for _ in range(3)]

    assert taken == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == pytest.approx(2.0)
    assert bucket.take(101.0) == pytest.approx(1.0)
    assert bucket.take(102.0) == 0.0


def test_tokens_never_pile_up_past_the_burst() -> None:
    bucket = TokenBucket(burst=2, per_second=1.0)
    bucket.take(0.0)

    assert [bucket.take(1_000.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_a_clock_that_goes_back_gives_no_tokens() -> None:
    bucket = TokenBucket(burst=1, per_second=1.0)
    bucket.take(50.0)

    assert bucket.take(10.0) == pytest.approx(1.0)


def test_each_key_has_its_own_bucket() -> None:
    limit = RateLimit(burst=1, per_second=0.1)

    assert limit.take("peer-a", 0.0) == 0.0
    assert limit.take("peer-a", 0.0) == pytest.approx(10.0)
    assert limit.take("peer-b", 0.0) == 0.0


def test_full_buckets_are_forgotten_when_there_are_too_many_keys() -> None:
    limit = RateLimit(burst=1, per_second=1.0)
    for n in range(MAX_KEYS):
        limit.take(f"peer-{n}", 0.0)
    limit.take("busy", 1_000.0)
    limit.take("busy", 1_000.0)  # empty now: kept

    limit.take("newcomer", 1_000.0)

    assert set(limit.buckets) == {"busy", "newcomer"}
