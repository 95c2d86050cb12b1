"""The retry policy's pure arithmetic: Retry-After parsing, jittered exponential backoff, caps."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest

from provisioner.retry import Budget, RetryPolicy, retry_after_seconds


class CeilingRng(random.Random):
    """Always draws the top of the jitter range, to expose the backoff ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


class FloorRng(random.Random):
    """Always draws 0, so any non-zero delay comes from Retry-After."""

    def uniform(self, a: float, b: float) -> float:
        return a


# --- Retry-After -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 120 ", 120.0), ("1.5", 1.5), ("0", 0.0), ("-4", 0.0)],
)
def test_retry_after_delay_seconds(value: str, expected: float) -> None:
    assert retry_after_seconds({"retry-after": value}) == expected


@pytest.mark.parametrize("value", ["soon", "", "nan", "inf", "Mon, 99 Foo 2024"])
def test_unreadable_retry_after_is_ignored(value: str) -> None:
    assert retry_after_seconds({"retry-after": value}) is None


def test_missing_retry_after_is_none() -> None:
    assert retry_after_seconds({"content-type": "application/json"}) is None


def test_retry_after_header_name_is_case_insensitive() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds(httpx.Headers({"RETRY-AFTER": "8"})) == 8.0


def test_retry_after_http_date_is_measured_from_the_server_date_header() -> None:
    headers = {
        "retry-after": "Wed, 21 Oct 2015 07:28:10 GMT",
        "date": "Wed, 21 Oct 2015 07:28:00 GMT",
    }
    # `now` is far off (our clock is skewed): the server's own Date wins.
    assert retry_after_seconds(headers, now=datetime(2030, 1, 1, tzinfo=UTC)) == 10.0


def test_retry_after_http_date_without_date_header_uses_now() -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=now) == 30.0


def test_retry_after_http_date_in_the_past_means_now() -> None:
    now = datetime(2016, 1, 1, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=now) == 0.0


# --- backoff ---------------------------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay, policy.multiplier) == (5, 0.25, 20.0, 2)
    assert policy.retry_statuses == frozenset({429, 500, 502, 503, 504})


def test_ceiling_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.25, multiplier=2, max_delay=5.0)
    assert [policy.ceiling(n) for n in range(8)] == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_ceiling_survives_absurd_attempt_numbers() -> None:
    assert RetryPolicy(max_delay=20.0).ceiling(100_000) == 20.0


def test_delay_is_full_jitter_within_the_ceiling() -> None:
    policy = RetryPolicy()
    rng = random.Random(1234)
    for attempt in range(10):
        draws = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= policy.ceiling(attempt) for d in draws)
        # Full jitter spreads over the whole range, not just near the top.
        assert min(draws) < policy.ceiling(attempt) / 4
        assert max(draws) > policy.ceiling(attempt) * 3 / 4


def test_delay_is_reproducible_with_a_seeded_rng() -> None:
    policy = RetryPolicy()
    first = [policy.delay(n, random.Random(42)) for n in range(5)]
    again = [policy.delay(n, random.Random(42)) for n in range(5)]
    assert first == again


def test_delay_is_at_least_retry_after() -> None:
    policy = RetryPolicy()
    assert policy.delay(0, FloorRng(), headers={"retry-after": "3"}) == 3.0


def test_jitter_above_retry_after_is_kept() -> None:
    policy = RetryPolicy(base_delay=10.0)
    assert policy.delay(0, CeilingRng(), headers={"retry-after": "3"}) == 10.0


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=30.0)
    assert policy.delay(0, FloorRng(), headers={"retry-after": "86400"}) == 30.0


def test_headers_without_retry_after_give_plain_jitter() -> None:
    policy = RetryPolicy()
    assert policy.delay(2, CeilingRng(), headers={"x-other": "1"}) == 1.0


def test_retries_status() -> None:
    policy = RetryPolicy(retry_statuses={429, 503})
    assert policy.retries_status(429) and policy.retries_status(503)
    assert not policy.retries_status(500) and not policy.retries_status(404)


def test_policy_is_frozen_and_hashable() -> None:
    policy = RetryPolicy(retry_statuses={429})
    assert isinstance(policy.retry_statuses, frozenset)
    assert hash(policy) == hash(RetryPolicy(retry_statuses=frozenset({429})))
    with pytest.raises(AttributeError):
        policy.max_attempts = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -1.0}, {"multiplier": 0.5},
     {"max_retry_after": -1.0}],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_negative_attempt_is_a_bug() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().ceiling(-1)


# --- the deadline budget ---------------------------------------------------------------------------


def test_budget_gives_each_attempt_the_smaller_of_its_deadline_and_what_is_left() -> None:
    budget = Budget(attempt=30.0, total=100.0)
    assert budget.for_attempt() == 30.0 and not budget.exhausted()
    budget.spent = 85.0
    assert budget.for_attempt() == 15.0
    assert budget.exhausted(15.0) and not budget.exhausted(14.0)
    budget.spent = 100.0
    assert budget.exhausted() and budget.for_attempt() == 0.0


def test_budget_without_deadlines_never_runs_out() -> None:
    budget = Budget(attempt=None, total=None)
    budget.spent = 1e9
    assert budget.for_attempt() is None and not budget.exhausted(1e9)
    assert Budget(attempt=None, total=10.0).for_attempt() == 10.0
    assert Budget(attempt=5.0, total=None).for_attempt() == 5.0
