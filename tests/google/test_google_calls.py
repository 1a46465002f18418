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
