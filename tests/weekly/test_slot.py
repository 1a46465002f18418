"""Which week's review is current, and its key. Pure functions, no calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from nurture.rules import ReportRules, Rulebook, Tier, Weekly, Work
from nurture.weekly import slot, week_key


def book(day: int, at: time, zone: str = "Europe/London", minutes: int = 30) -> Rulebook:
    return Rulebook(
        tiers={"default": Tier("default")},
        work=Work(timezone=zone),
        report=ReportRules(weekly=Weekly(day, at), length=timedelta(minutes=minutes)),
    )


def test_off_means_no_slot() -> None:
    assert slot(Rulebook(tiers={"default": Tier("default")}), datetime.now(UTC)) is None


def test_this_weeks_slot_until_it_has_ended_then_next_weeks() -> None:
    rules = book(4, time(16, 0))  # Friday 16:00 London (GMT in November)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    first = slot(rules, monday)
    assert first is not None
    assert (first.key, first.start, first.end) == (
        "report:2026-W48",
        datetime(2026, 11, 27, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 16, 30, tzinfo=UTC),
    )
    during = slot(rules, datetime(2026, 11, 27, 16, 29, tzinfo=UTC))
    assert during == first
    after = slot(rules, datetime(2026, 11, 27, 16, 30, tzinfo=UTC))
    assert after is not None and after.key == "report:2026-W49"
    assert after.start == first.start + timedelta(days=7)
    saturday = slot(rules, datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    assert saturday == after


def test_the_time_is_local_to_the_work_time_zone_across_daylight_saving() -> None:
    rules = book(0, time(9, 0), zone="America/New_York")
    winter = slot(rules, datetime(2026, 11, 20, tzinfo=UTC))
    summer = slot(rules, datetime(2026, 7, 1, tzinfo=UTC))
    assert winter is not None and winter.start == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert summer is not None and summer.start == datetime(2026, 7, 6, 13, 0, tzinfo=UTC)


def test_week_keys_follow_iso_weeks_across_the_year_end() -> None:
    assert week_key(date(2026, 12, 31)) == "report:2026-W53"
    assert week_key(date(2027, 1, 3)) == "report:2026-W53"
    assert week_key(date(2027, 1, 4)) == "report:2027-W01"
