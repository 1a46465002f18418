"""Free-slot search within working hours, and the daily budget. Pure.

Suggestions are placed highest priority first, each in the first free slot
inside working hours on or after its due time (and not before now), around
busy time and the tasks already placed. A day holds at most `daily_budget`
nudges, so when time is short the most valuable relationships come first and
the rest wait for the next day with room, up to the horizon.

Stability matters as much as the first placement: a task the user moved
(snoozed) is pinned where they put it, and a task nurture placed earlier keeps
its slot while that slot is still today or later, free and within hours, so a
rerun does not shuffle the calendar. Earlier slots are settled before any new
task is placed, so neither a new nudge nor a snooze ever moves a task that
still fits where it is.

Working hours are wall-clock times in the user's zone; every computation runs
on the UTC instants they stand for. (Python adds and compares datetimes of
one zone by their wall clock: on 28 March 2027, with hours 02:00-03:30 in
Europe/Berlin, two tasks landed at the same instant and one at 03:40.) A
working-day edge that the clock skips on a DST change is the moment of the
jump; one it passes twice is its first pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from .model import UTC, Suggestion
from .rules import Rulebook

Interval = tuple[datetime, datetime]
STEP = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Placement:
    suggestion: Suggestion
    start: datetime
    end: datetime
    pinned: bool = False


def _round_up(moment: datetime) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    extra = moment.minute % 5
    return moment + timedelta(minutes=5 - extra) if extra else moment


def _overlaps(start: datetime, end: datetime, busy: Sequence[Interval]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def instant(day: date, clock: time, zone: tzinfo) -> datetime:
    """The UTC instant of wall time `clock` on `day` in `zone`.

    A time the clock skips (spring forward) is the instant of the jump, the
    first existing moment after it; a time it passes twice is its first pass.
    """
    wall = datetime.combine(day, clock, zone)  # fold=0: the first pass, or before a jump
    first = wall.astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return first
    # Skipped: the jump lies between the two readings of the wall time; find it.
    low, high = wall.replace(fold=1).astimezone(UTC), first
    if low > high:
        low, high = high, low
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = middle
        else:
            high = middle
    return high.replace(second=0, microsecond=0)


class _Day:
    def __init__(self, rules: Rulebook, day: date) -> None:
        zone = rules.work.zone
        self.open = instant(day, rules.work.start, zone)
        self.close = instant(day, rules.work.end, zone)
        self.working = day.weekday() in rules.work.days


def place(
    suggestions: Sequence[Suggestion],
    busy: Sequence[Interval],
    rules: Rulebook,
    now: datetime,
    *,
    pinned: Mapping[str, Interval] | None = None,
    previous: Mapping[str, Interval] | None = None,
) -> list[Placement]:
    """Place `suggestions`; those that find no room within the horizon are left out."""
    pinned = pinned or {}
    previous = previous or {}
    zone = rules.work.zone
    length = rules.tasks.length
    today = now.astimezone(zone).date()
    horizon_end = now + rules.tasks.horizon
    taken: list[Interval] = sorted(busy)
    per_day: dict[date, int] = {}
    placed: list[Placement] = []

    ordered = sorted(suggestions, key=lambda s: (-s.priority, s.due, s.key))

    def put(s: Suggestion, start: datetime, end: datetime, *, pin: bool = False) -> None:
        placed.append(Placement(s, start, end, pinned=pin))
        taken.append((start, end))
        day = start.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1

    for s in ordered:  # the user's own moves first: they are not negotiable
        if s.key in pinned:
            put(s, *pinned[s.key], pin=True)
    # Then every task nurture placed before, where it still fits, before anything new
    # is placed: a new or snoozed task must never push an existing one on. Only
    # nurture's own tasks count against the budget here, so a task the user moved
    # into a full day does not evict the day's others.
    kept: dict[date, int] = {}
    for s in ordered:
        slot = previous.get(s.key)
        if s.key in pinned or slot is None or not _still_good(slot, rules, taken, kept, today):
            continue
        put(s, *slot)
        day = slot[0].astimezone(zone).date()
        kept[day] = kept.get(day, 0) + 1
    held = {p.suggestion.key for p in placed}
    for s in ordered:
        if s.key in held:
            continue
        found = _first_free(max(s.due, now), length, rules, taken, per_day, horizon_end)
        if found is not None:
            put(s, *found)
    return sorted(placed, key=lambda p: (p.start, p.suggestion.key))


def _still_good(
    slot: Interval,
    rules: Rulebook,
    taken: Sequence[Interval],
    per_day: Mapping[date, int],
    today: date,
) -> bool:
    """A slot nurture chose earlier still fits: today or later, the task's length, inside
    working hours, within the day's budget and clear of everything placed so far."""
    start, end = slot
    zone = rules.work.zone
    local = start.astimezone(zone)
    day = _Day(rules, local.date())
    return (
        local.date() >= today
        and end - start == rules.tasks.length
        and day.working
        and day.open <= start
        and end <= day.close
        and per_day.get(local.date(), 0) < rules.tasks.daily_budget
        and not _overlaps(start, end, taken)
    )


def _first_free(
    earliest: datetime,
    length: timedelta,
    rules: Rulebook,
    taken: Sequence[Interval],
    per_day: Mapping[date, int],
    horizon_end: datetime,
) -> Interval | None:
    zone = rules.work.zone
    day = earliest.astimezone(zone).date()
    ordered = sorted(taken)
    while instant(day, time(0), zone) < horizon_end:
        hours = _Day(rules, day)
        if hours.working and per_day.get(day, 0) < rules.tasks.daily_budget:
            start = _round_up(max(hours.open, earliest.astimezone(UTC)))
            while start + length <= hours.close:
                end = start + length
                clash = [b for b in ordered if b[0] < end and start < b[1]]
                if not clash:
                    return start, end
                start = _round_up(max(b[1] for b in clash))
        day += timedelta(days=1)
    return None


def busy_intervals(events: Sequence[tuple[datetime, datetime, bool]]) -> list[Interval]:
    """(start, end, busy) events → the busy intervals, merged and sorted."""
    spans = sorted((s, e) for s, e, is_busy in events if is_busy and e > s)
    merged: list[Interval] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
