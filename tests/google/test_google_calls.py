"""The call policy: jittered exponential backoff, batch size halving and doubling."""

from __future__ import annotations

import pytest

pytest.importorskip("googleapiclient")

from nurture_google.calls import Caller, units  # noqa: E402


def test_delay_grows_exponentially_with_jitter_and_honours_the_hint() -> None:
    low = Caller(rng=lambda: 0.0)
    high = Caller(rng=lambda: 1.0)
    assert [low.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert [high.delay(n) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert high.delay(20) == high.max_delay
    assert low.delay(0, hint=30.0) == 30.0


def test_gmail_units_follow_the_quota_table() -> None:
    assert units("gmail.users.messages.get") == 5
    assert units("gmail.users.history.list") == 2
    assert units("calendar.events.list") == 1


def test_spending_is_paced_by_a_token_bucket() -> None:
    waits: list[float] = []
    clock = [100.0]
    caller = Caller(
        pace=100.0, burst=500.0, _allowance=500.0, sleep=waits.append, monotonic=lambda: clock[0]
    )
    for _ in range(2):
        caller.spend(250)  # the burst covers these
    assert waits == []
    caller.spend(250)
    assert waits == [2.5]  # 250 units at 100 units/s
    clock[0] += 10.0  # ten quiet seconds refill the bucket up to the burst
    caller.spend(500)
    assert waits == [2.5]


def test_pacing_can_be_switched_off() -> None:
    waits: list[float] = []
    caller = Caller(pace=None, sleep=waits.append)
    for _ in range(100):
        caller.spend(1000)
    assert waits == []
