"""Working hours across a DST change: tasks land inside them, never two at one instant.

From the hostile run: with hours 02:00-03:30 Europe/Berlin on 28 March 2027 (the
clocks jump from 02:00 to 03:00), two tasks landed at 01:00Z and one at 03:40
CEST, because datetimes of one zone are added and compared by wall clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nurture.model import UTC, Address, NudgeKey, Origin, Suggestion
from nurture.rules import Rulebook, Tasks, Tier, Work
from nurture.schedule import instant, place

BERLIN = ZoneInfo("Europe/Berlin")


def _rules(start: time, end: time, zone: str = "Europe/Berlin") -> Rulebook:
    return Rulebook(
        tiers={"default": Tier("default")},
        work=Work(timezone=zone, days=tuple(range(7)), start=start, end=end),
        tasks=Tasks(length=timedelta(minutes=20), daily_budget=6, horizon=timedelta(days=4)),
    )


def _asks(count: int, due: datetime) -> list[Suggestion]:
    return [
        Suggestion(
            key=NudgeKey(Origin.REPLY, f"{n}@x"),
            contact=Address(f"c{n}@client.example"),
            title=f"Reply to c{n}",
            why="asked",
            action="reply",
            due=due,
            priority=10 - n,
        )
        for n in range(count)
    ]


def _check(placements: list, rules: Rulebook) -> None:  # type: ignore[type-arg]
    zone = rules.work.zone
    spans = sorted((p.start.astimezone(UTC), p.end.astimezone(UTC)) for p in placements)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start, f"two tasks overlap: {spans}"
    for start, end in spans:
        day = start.astimezone(zone).date()
        assert instant(day, rules.work.start, zone) <= start, (start, "before hours")
        assert end <= instant(day, rules.work.end, zone), (end, "after hours")
        assert end - start == rules.tasks.length


def test_the_spring_forward_day_keeps_tasks_inside_hours_and_apart() -> None:
    rules = _rules(time(2, 0), time(3, 30))
    now = datetime(2027, 3, 27, 23, 0, tzinfo=UTC)  # Sunday 28 March, 00:00 in Berlin
    placements = place(_asks(3, now), [], rules, now)
    _check(placements, rules)
    first_day = [p for p in placements if p.start.astimezone(BERLIN).date() == date(2027, 3, 28)]
    # 02:00 does not exist that day: hours run from the jump (03:00 CEST) to 03:30.
    assert [p.start for p in first_day] == [datetime(2027, 3, 28, 1, 0, tzinfo=UTC)]


def test_a_skipped_or_doubled_wall_time_is_one_instant() -> None:
    assert instant(date(2027, 3, 28), time(2, 30), BERLIN) == datetime(2027, 3, 28, 1, tzinfo=UTC)
    assert instant(date(2027, 10, 31), time(2, 30), BERLIN) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )
    assert instant(date(2027, 6, 1), time(9, 0), BERLIN) == datetime(2027, 6, 1, 7, tzinfo=UTC)


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    day=st.sampled_from(
        [
            date(2027, 3, 14),
            date(2027, 3, 28),
            date(2027, 4, 4),
            date(2027, 10, 3),
            date(2027, 10, 31),
            date(2027, 11, 7),
            date(2027, 6, 9),
        ]
    ),  # fmt: skip
    start_minutes=st.integers(0, 23 * 60),
    hours=st.integers(1, 6),
    count=st.integers(1, 8),
)
def test_placements_stay_inside_hours_on_any_change_day(
    zone: str, day: date, start_minutes: int, hours: int, count: int
) -> None:
    start = time(start_minutes // 60, start_minutes % 60 // 5 * 5)
    end_minutes = min(start_minutes // 5 * 5 + hours * 60, 23 * 60 + 55)
    end = time(end_minutes // 60, end_minutes % 60)
    if end <= start:
        return
    rules = _rules(start, end, zone)
    now = datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)
    _check(place(_asks(count, now), [], rules, now), rules)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_an_ordinary_day_is_unchanged(zone: str) -> None:
    rules = _rules(time(9, 0), time(17, 30), zone)
    now = datetime.combine(date(2027, 6, 9), time(8, 0), ZoneInfo(zone)).astimezone(UTC)
    placements = place(_asks(2, now), [], rules, now)
    assert [p.start.astimezone(ZoneInfo(zone)).time() for p in placements] == [
        time(9, 0),
        time(9, 20),
    ]
