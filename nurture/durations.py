"""Durations as people write them in rule and config files ("90m", "36h", "2d", "3w"),
and ages and moments as a user reads them (calendar days and times in their zone)."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, tzinfo

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
# The longest duration any setting takes: ten years. Longer ones are typos, and
# far longer ones overflow the date arithmetic every sync does ("3000000d").
LONGEST = timedelta(days=3653)


def parse_duration(value: object, longest: timedelta = LONGEST) -> timedelta:
    """Parse "1d", "36h", "1w 2d", "90m"; a bare number is days.

    ValueError, with a message to show, for anything else or anything longer
    than `longest`.
    """
    if isinstance(value, bool):
        raise ValueError(f'expected a duration like "3d", got {value!r}')
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f'expected a duration like "3d", got {value!r}')
        if abs(value) > longest.days:
            raise ValueError(f"{value!r} days is longer than {_longest(longest)}")
        return timedelta(days=value)
    if not isinstance(value, str):
        raise ValueError(f'expected a duration like "3d", got {value!r}')
    text = value.strip().lower()
    if len(text) > 100:
        raise ValueError(f'{value[:20]!r}… is not a duration (use m, h, d or w, e.g. "3d")')
    pos, seconds = 0, 0.0
    for match in _PART.finditer(text):
        if text[pos : match.start()].strip():
            break
        seconds += float(match.group(1)) * _SECONDS[match.group(2)]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError(f'{value!r} is not a duration (use m, h, d or w, e.g. "3d")')
    if seconds > longest.total_seconds():
        raise ValueError(f"{value!r} is longer than {_longest(longest)}")
    return timedelta(seconds=seconds)


def _longest(delta: timedelta) -> str:
    years = delta.days / 365.25
    if years >= 1 and abs(years - round(years)) < 0.01:
        return "1 year" if round(years) == 1 else f"{round(years)} years"
    return format_duration(delta)


def format_duration(delta: timedelta) -> str:
    """A short human form: "3 weeks", "5 days", "4 hours"."""
    days = delta.total_seconds() / 86400
    if days >= 14 and abs(days / 7 - round(days / 7)) < 0.15:
        n = round(days / 7)
        return f"{n} weeks"
    if days >= 1.5:
        return f"{round(days)} days"
    hours = delta.total_seconds() / 3600
    if hours >= 1.5:
        return f"{round(hours)} hours"
    return f"{max(1, round(delta.total_seconds() / 60))} minutes"


# ---- ages and moments as a user reads them ----------------------------------------
#
# One clock and one rounding for every age nurture shows (task titles, `explain`, the
# report): whole calendar days in the user's zone, so "yesterday" is yesterday however
# late it is, and a task and the report never differ by one.


def days_between(then: datetime, now: datetime, zone: tzinfo) -> int:
    """Calendar days from `then` to `now` in `zone` (0: the same day)."""
    return (now.astimezone(zone).date() - then.astimezone(zone).date()).days


def ago(then: datetime, now: datetime, zone: tzinfo) -> str:
    """How long ago, by calendar days in `zone`: "today", "yesterday", "N days ago"."""
    days = days_between(then, now, zone)
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def day(moment: datetime, zone: tzinfo) -> str:
    """A date as every listing shows it, in the user's zone: "Mon 07 Dec"."""
    return moment.astimezone(zone).strftime("%a %d %b")


def moment(value: datetime, zone: tzinfo) -> str:
    """A date and time as every listing shows it, in the user's zone: "Mon 07 Dec 14:05"."""
    return value.astimezone(zone).strftime("%a %d %b %H:%M")
