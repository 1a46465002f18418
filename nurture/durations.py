"""Durations as people write them in rule and config files ("90m", "36h", "2d", "3w"),
and ages and moments as a user reads them (calendar days and times in their zone)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(value: object) -> timedelta:
    """Parse "1d", "36h", "1w 2d", "90m"; a bare number is days. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f'expected a duration like "3d", got {value!r}')
    if isinstance(value, int | float):
        return timedelta(days=value)
    if not isinstance(value, str):
        raise ValueError(f'expected a duration like "3d", got {value!r}')
    text = value.strip().lower()
    pos, total = 0, timedelta()
    for match in _PART.finditer(text):
        if text[pos : match.start()].strip():
            break
        total += timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError(f'{value!r} is not a duration (use m, h, d or w, e.g. "3d")')
    return total


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
