"""iCalendar in and out, shared by every connector that speaks it (local, CalDAV).

Tasks are written with the `icalendar` library, which escapes CR/LF, commas and
semicolons and folds long lines, so no subject can break the file. Reading
expands recurrences with `recurring_ical_events` (RRULE, RDATE, EXDATE and
edited occurrences). Floating times and all-day dates are placed in the
zone the caller names: a naive datetime never leaves this module.

Reading is bounded, because a calendar is input nurture did not write:

- `calendar_for` parses only the parts of an .ics that a read of a window
  needs: events that may overlap it (a plain event far outside is skipped by
  its DTSTART/DTEND lines, unparsed) and the time zones they name, each at
  most `MAX_TIMEZONE_BYTES`. A 100,000-event file is a scan, not 100,000
  parses; a 9 MB VTIMEZONE is not parsed at all.
- `expand_events` lets no rule run away: a rule far older than the window is
  moved forward to it before expanding (exact for rules of fixed period), at
  most `MAX_OCCURRENCES` occurrences of one event are read per window, and a
  rule that would need more than `MAX_STEPS` steps to reach the window is not
  expanded. Each such event is reported once, by calendar and UID.

An object is nurture's task only when it carries the marker and its UID is the
one nurture derives from that marker's key (`is_task`): a marker copied onto
an invitation or onto the user's own meeting does not make it nurture's.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from .connector import HASH_PROPERTY, MARKER, task_uid
from .model import UTC, Address, CalendarEvent, CalendarTask, TaskRecord, TaskStatus

log = logging.getLogger(__name__)

PRODID = "-//nurture//nurture follow-ups//EN"
CATEGORY = "nurture"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_SUMMARY = 200
MAX_DESCRIPTION = 4000

# Occurrences of one event read per window. A daily meeting has ~135 in the
# window nurture reads (120 days back, the horizon ahead); 2,000 is an event
# every 90 minutes, day and night, which is a broken rule, not a schedule.
MAX_OCCURRENCES = 2_000
# Rule steps from an event's start to the end of the window. 200,000 dateutil
# steps take about half a second; a daily event since 1500 needs 193,000.
MAX_STEPS = 200_000
# A rule of fixed period that would walk more steps than this before the window
# is moved forward to it first (exact; a daily event since 2020 walks 2,500).
MOVE_AFTER = 1_000
# A VTIMEZONE larger than this is ignored (its times read as floating). Real
# ones are 1-10 KB; a 9 MB one took 58 s and 616 MB to parse.
MAX_TIMEZONE_BYTES = 64 * 1024
# A plain event whose DTSTART/DTEND lines put it this far outside the window is
# skipped unparsed; the slack covers a TZID's offset from UTC.
_SLACK = timedelta(days=2)


def clean_text(value: str, limit: int) -> str:
    """Drop control characters (CR included) and cut to `limit` characters."""
    value = _CONTROL.sub(" ", value.replace("\r\n", "\n"))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def task_component(task: CalendarTask, content_hash: str, stamp: datetime) -> icalendar.Component:
    """The VEVENT (or VTODO) for `task`, carrying nurture's marker and content hash."""
    comp: icalendar.Component = icalendar.Todo() if task.todo else icalendar.Event()
    comp.add("uid", task.uid)
    comp.add("dtstamp", stamp.astimezone(UTC))
    comp.add("summary", clean_text(task.title, MAX_SUMMARY).replace("\n", " "))
    comp.add("description", clean_text(task.description, MAX_DESCRIPTION))
    comp.add("dtstart", task.start.astimezone(UTC))
    if task.todo:
        comp.add("due", task.end.astimezone(UTC))
        comp.add("status", "NEEDS-ACTION")
    else:
        comp.add("dtend", task.end.astimezone(UTC))
        comp.add("transp", "TRANSPARENT" if task.free else "OPAQUE")
    comp.add("class", "PRIVATE")
    comp.add("categories", [CATEGORY])
    if task.url:
        comp.add("url", task.url)
    comp.add(MARKER, task.key)
    comp.add(HASH_PROPERTY, content_hash)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", clean_text(task.title, MAX_SUMMARY).replace("\n", " "))
    alarm.add("trigger", timedelta(0))
    comp.add_component(alarm)
    return comp


def task_calendar(task: CalendarTask, content_hash: str, stamp: datetime) -> bytes:
    """A whole VCALENDAR holding one task, as bytes for a vdir file or a CalDAV PUT."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add_component(task_component(task, content_hash, stamp))
    return cal.to_ical()


def is_task(component: icalendar.Component) -> bool:
    """Whether `component` is one of nurture's tasks: the marker AND the UID derived from it."""
    if MARKER not in component:
        return False
    return str(component.get("uid", "")) == task_uid(str(component[MARKER]))


def _as_datetime(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), zone).astimezone(UTC)


def record_from_component(component: icalendar.Component, ref: str, zone: tzinfo) -> TaskRecord:
    """Read one of nurture's tasks back, with whatever the user changed.

    Raises KeyError, ValueError or TypeError for a task the user left without a
    start or with a value that cannot be read; callers report it and skip it.
    """
    start = _as_datetime(component.decoded("dtstart"), zone)
    if "dtend" in component:
        end = _as_datetime(component.decoded("dtend"), zone)
    elif "due" in component:
        end = _as_datetime(component.decoded("due"), zone)
    elif "duration" in component:
        end = start + component.decoded("duration")
    else:
        end = start
    status_text = str(component.get("status", "")).upper()
    if status_text == "COMPLETED" or "completed" in component:
        status = TaskStatus.COMPLETED
    elif status_text == "CANCELLED":
        status = TaskStatus.CANCELLED
    else:
        status = TaskStatus.OPEN
    return TaskRecord(
        key=str(component[MARKER]),
        uid=str(component.get("uid", "")),
        start=start,
        end=end,
        status=status,
        ref=ref,
        content_hash=str(component.get(HASH_PROPERTY, "")),
        title=str(component.get("summary", "")),
    )


# Errors that reading one odd object can raise; each is reported and the object skipped.
UNREADABLE = (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError)


def _address(value: object) -> Address | None:
    text = str(value)
    if not text.lower().startswith("mailto:"):
        return None
    params = getattr(value, "params", {})
    return Address(text[7:], str(params.get("CN", "")))


def _busy(component: icalendar.Component, all_day: bool) -> bool:
    """Whether an event blocks its time.

    TRANSP decides when it is there. Without it, a timed event is busy (RFC 5545's
    default) and an all-day one is free: that is how Google, Outlook, Apple Calendar
    and Thunderbird create all-day events, and a subscribed holiday or birthday
    calendar must not block whole days. An all-day event marked busy (a vacation
    written as OPAQUE) still blocks its days.
    """
    transp = str(component.get("transp", "")).strip().upper()
    if transp:
        return transp != "TRANSPARENT"
    return not all_day


def event_from_component(component: icalendar.Component, zone: tzinfo) -> CalendarEvent:
    """A busy block or meeting from one (already expanded) VEVENT occurrence."""
    raw_start = component.decoded("dtstart")
    all_day = not isinstance(raw_start, datetime)
    start = _as_datetime(raw_start, zone)
    if "dtend" in component:
        end = _as_datetime(component.decoded("dtend"), zone)
    elif "duration" in component:
        end = start + component.decoded("duration")
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    attendees_raw = component.get("attendee", [])
    if not isinstance(attendees_raw, list):
        attendees_raw = [attendees_raw]
    attendees = tuple(a for a in (_address(v) for v in attendees_raw) if a is not None)
    organizer = _address(component["organizer"]) if "organizer" in component else None
    return CalendarEvent(
        uid=str(component.get("uid", "")),
        start=start,
        end=end,
        summary=str(component.get("summary", "")),
        all_day=all_day,
        busy=_busy(component, all_day),
        organizer=organizer,
        attendees=attendees,
        cancelled=str(component.get("status", "")).upper() == "CANCELLED",
    )


# ----------------------------------------------------------------------------- reporting


class Reports:
    """Warns about an odd calendar object once; repeats go to debug.

    A store keeps one for its life, so the daemon, which reads every 15
    minutes, says a thing once and not 96 times a day.
    """

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()

    def __call__(
        self, where: str, uid: str, what: str, fix: str = "fix it in your calendar app"
    ) -> None:
        key = (where, uid, what)
        if key in self._seen:
            log.debug("%s: event %s: %s", where or "calendar", uid, what)
            return
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen.add(key)
        log.warning("%s: event %s: %s — %s", where or "calendar", uid or "?", what, fix)


# ----------------------------------------------------------------------------- .ics layout


@dataclass(frozen=True, slots=True)
class Block:
    """One component directly inside a VCALENDAR, as a byte range of the file."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Layout:
    """An .ics file cut into its calendar head and its top-level components.

    `head` is the range from ``BEGIN:VCALENDAR`` to the first component (the
    calendar's own properties); `complete` is False when a BEGIN has no END.
    """

    head: tuple[int, int]
    blocks: tuple[Block, ...]
    complete: bool


_EDGE = re.compile(rb"^(BEGIN|END):([A-Za-z0-9-]+)[ \t]*\r?$", re.M)


def layout(data: bytes) -> Layout:
    """Find the top-level components of `data` in one linear pass.

    Only whole ``BEGIN:NAME`` / ``END:NAME`` lines count, so no property value
    (folded or not) can open or close a component, and an END with no BEGIN is
    ignored rather than closing the wrong one.
    """
    stack: list[str] = []
    blocks: list[Block] = []
    head_start = head_end = -1
    top_start = 0
    for edge in _EDGE.finditer(data):
        name = edge.group(2).decode("ascii").upper()
        if edge.group(1) == b"BEGIN":
            if not stack and head_start < 0:
                head_start = edge.start()
            stack.append(name)
            if len(stack) == 2:
                top_start = edge.start()
                if head_end < 0:
                    head_end = top_start
            continue
        if name not in stack:
            continue
        while stack and stack[-1] != name:
            stack.pop()
        if len(stack) == 2:
            end = edge.end()
            end += 2 if data[end : end + 2] == b"\r\n" else 1 if data[end : end + 1] == b"\n" else 0
            blocks.append(Block(name, top_start, end))
        stack.pop()
    if head_start < 0:
        head_start = 0
    if head_end < 0:
        head_end = len(data)
    return Layout((head_start, head_end), tuple(blocks), complete=not stack)


_RECURS = re.compile(rb"^(?:RRULE|RDATE|RECURRENCE-ID)[;:]", re.M)
_UID = re.compile(rb"^UID[;:](?:[^:\r\n]*:)?([^\r\n]*)", re.M)
_TZID = re.compile(rb';TZID=("?)([^";:\r\n]+)\1')
_ZONE_ID = re.compile(rb"^TZID[;:](?:[^:\r\n]*:)?([^\r\n]*)", re.M)


def _line_date(block: bytes, name: bytes) -> date | None:
    found = re.search(rb"^" + name + rb"(?:;[^:\r\n]*)?:(\d{4})(\d{2})(\d{2})", block, re.M)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


_DURATION = re.compile(rb"^DURATION(?:;[^:\r\n]*)?:[ \t]*([-+]?P[0-9WDTHMS]{1,40})[ \t]*\r?$", re.M)


def _may_overlap(block: bytes, low: date, high: date) -> bool:
    """Whether a VEVENT block can have an occurrence in [low, high]; True when unsure."""
    if _RECURS.search(block):
        return True
    start = _line_date(block, b"DTSTART")
    if start is None:
        return True
    end = _line_date(block, b"DTEND")
    if end is None:
        length = timedelta(days=1)
        duration = _DURATION.search(block)
        if duration is not None:
            try:
                length += abs(icalendar.vDuration.from_ical(duration.group(1).decode()))
            except (ValueError, OverflowError):
                return True
        elif re.search(rb"^DURATION[;:]", block, re.M):
            return True
        end = start + length
    return start <= high and end >= low


def block_uid(block: bytes) -> str:
    """The UID of a component block, read without parsing it ("" when none)."""
    found = _UID.search(block)
    return found.group(1).decode("utf-8", "replace").strip() if found else ""


def calendar_for(
    data: bytes,
    where: str,
    start: datetime | None = None,
    end: datetime | None = None,
    report: Reports | None = None,
) -> icalendar.Calendar | None:
    """The parts of an .ics that a read of [start, end) needs, parsed into one calendar.

    Without a window every event is kept. Each event is parsed on its own, so a
    broken one is reported (file and UID) and skipped, and the rest is read.
    None when the file holds nothing readable.
    """
    report = report or Reports()
    shape = layout(data)
    if not shape.complete or not data[shape.head[0] :].startswith(b"BEGIN:VCALENDAR"):
        report(
            where, "", "not a valid iCalendar file (a BEGIN without its END)", "fix or remove it"
        )
    low = (start - _SLACK).date() if start else date.min
    high = (end + _SLACK).date() if end else date.max
    events = [
        data[b.start : b.end]
        for b in shape.blocks
        if b.name == "VEVENT" and _may_overlap(data[b.start : b.end], low, high)
    ]
    wanted = {m.group(2) for e in events for m in _TZID.finditer(e)}
    zones: dict[bytes, bytes] = {}
    for b in shape.blocks:
        if b.name != "VTIMEZONE":
            continue
        found = _ZONE_ID.search(data, b.start, b.end)
        zone_id = found.group(1).strip() if found else b""
        if zone_id not in wanted or zone_id in zones:
            continue
        if b.end - b.start > MAX_TIMEZONE_BYTES:
            report(
                where,
                zone_id.decode("utf-8", "replace"),
                f"time zone definition of {(b.end - b.start) // 1024} KB ignored "
                f"(at most {MAX_TIMEZONE_BYTES // 1024} KB); its times are read as local",
                "replace it with a standard time zone in your calendar app",
            )
            continue
        zones[zone_id] = data[b.start : b.end]
    head = data[shape.head[0] : shape.head[1]]
    try:
        calendar = icalendar.Calendar.from_ical(
            head + b"".join(zones.values()) + b"END:VCALENDAR\r\n"
        )
    except Exception as exc:
        if head.strip():
            report(where, "", f"unreadable calendar header ({exc})", "fix or remove it")
        calendar = icalendar.Calendar()
    for raw in events:
        try:
            calendar.add_component(icalendar.Component.from_ical(raw))
        except Exception as exc:
            report(where, block_uid(raw), f"cannot be read ({exc}); skipped")
    if not events and not calendar.subcomponents:
        return None
    return calendar


# ----------------------------------------------------------------------------- recurrence

_UNIT = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
    "MONTHLY": timedelta(days=28),  # the shortest month: an upper bound on the count
    "YEARLY": timedelta(days=365),
}
_REPEATS = ("RRULE", "RDATE", "RECURRENCE-ID")
_FIXED = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY"})
# The BY parts that add occurrences within one period of each FREQ (RFC 5545
# 3.3.10, the "expand" cells of its table); elsewhere they only filter.
_EXPANDS = {
    "BYMONTH": frozenset({"YEARLY"}),
    "BYWEEKNO": frozenset({"YEARLY"}),
    "BYYEARDAY": frozenset({"YEARLY"}),
    "BYMONTHDAY": frozenset({"MONTHLY", "YEARLY"}),
    "BYDAY": frozenset({"WEEKLY", "MONTHLY", "YEARLY"}),
    "BYHOUR": frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}),
    "BYMINUTE": frozenset({"HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}),
    "BYSECOND": frozenset({"MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}),
}
# A weekday without an ordinal recurs up to 5 times a month, 53 a year.
_DAYS_IN = {"MONTHLY": 5, "YEARLY": 53}


@dataclass(frozen=True, slots=True)
class _Rule:
    """What bounds one RRULE's expansion: its period, its fan-out, its limits."""

    freq: str
    period: timedelta
    fan_out: int
    count: int | None
    until: datetime | None
    plain: bool  # no COUNT and no BYSETPOS: can be moved forward whole periods


def _rule(value: icalendar.vRecur, zone: tzinfo) -> _Rule:
    freq = str(value.get("FREQ", ["DAILY"])[0]).upper()
    if freq not in _UNIT:
        raise ValueError(f"unknown FREQ {freq}")
    interval = max(1, int(value.get("INTERVAL", [1])[0]))
    fan_out = 1
    for part, freqs in _EXPANDS.items():
        values = value.get(part) or []
        if values and freq in freqs:
            size = len(values)
            if part == "BYDAY" and freq in _DAYS_IN:
                size = sum(_DAYS_IN[freq] if str(d)[:1].isalpha() else 1 for d in values)
            fan_out *= size
    count = value.get("COUNT")
    until = value.get("UNTIL")
    return _Rule(
        freq=freq,
        period=_UNIT[freq] * interval,
        fan_out=fan_out,
        count=int(count[0]) if count else None,
        until=_as_datetime(until[0], zone) if until else None,
        plain=not count and not value.get("BYSETPOS"),
    )


@dataclass(frozen=True, slots=True)
class _Estimate:
    steps: int  # occurrences generated from the start to the end of the window
    inside: int  # of those, occurrences inside the window


def _estimate(rule: _Rule, origin: datetime, start: datetime, end: datetime) -> _Estimate:
    stop = min(end, rule.until) if rule.until else end
    if stop < origin:
        return _Estimate(1, 0)
    steps = ((stop - origin) // rule.period + 1) * rule.fan_out
    inside = 0 if stop < start else ((stop - max(start, origin)) // rule.period + 1) * rule.fan_out
    if rule.count is not None:
        steps, inside = min(steps, rule.count), min(inside, rule.count)
    return _Estimate(steps, inside)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to expand one series: moved forward, until when, and how many to read."""

    components: tuple[icalendar.Component, ...]
    until: datetime
    capped: bool = False


def _rdates(component: icalendar.Component) -> int:
    value = component.get("rdate")
    lists = value if isinstance(value, list) else [value] if value is not None else []
    return sum(len(getattr(v, "dts", ())) for v in lists)


def _moved(component: icalendar.Component, shift: timedelta) -> icalendar.Component:
    """A copy of `component` with DTSTART (and DTEND) moved by `shift`, TZID kept."""
    moved = copy.copy(component)
    for name in ("DTSTART", "DTEND"):
        if name in component:
            old: Any = component[name]
            new = icalendar.vDDDTypes(old.dt + shift)
            new.params = old.params
            moved[name] = new
    return moved


def _plan(
    components: list[icalendar.Component], start: datetime, end: datetime, zone: tzinfo
) -> _Plan | None:
    """How to expand a series so it stays within the bounds; None when ordinary.

    Raises ValueError (reported by the caller) for a series that cannot be
    expanded within `MAX_STEPS`.
    """
    core = next((c for c in components if "recurrence-id" not in c), None)
    if core is None or ("rrule" not in core and "rdate" not in core):
        return None
    rules_raw = core.get("rrule")
    rules = [
        _rule(r, zone)
        for r in (rules_raw if isinstance(rules_raw, list) else [rules_raw] if rules_raw else [])
    ]
    raw_start = core.decoded("dtstart")
    origin = _as_datetime(raw_start, zone)
    extra = _rdates(core)
    steps = sum(_estimate(r, origin, start, end).steps for r in rules) + extra
    inside = sum(_estimate(r, origin, start, end).inside for r in rules) + extra
    if steps <= MOVE_AFTER and inside <= MAX_OCCURRENCES:
        return None
    parts = list(components)
    if len(rules) == 1 and rules[0].plain and rules[0].freq in _FIXED and steps > MOVE_AFTER:
        rule = rules[0]
        if isinstance(raw_start, datetime) or rule.period % timedelta(days=1) == timedelta(0):
            length = _length(core, zone, origin)
            periods = (start - length - origin) // rule.period - 1
            if periods > 0:
                shift = rule.period * periods
                parts = [_moved(core, shift), *(c for c in components if c is not core)]
                origin += shift
    until = end
    capped = False
    if inside > MAX_OCCURRENCES:
        # Read the first MAX_OCCURRENCES of the window: the end is where the rules reach them.
        per_period = sum(r.fan_out for r in rules) or 1
        shortest = min((r.period for r in rules), default=timedelta(days=1))
        until = min(end, max(start, origin) + shortest * (MAX_OCCURRENCES // per_period + 1))
        capped = True
    steps = sum(_estimate(r, origin, start, until).steps for r in rules) + extra
    if steps > MAX_STEPS:
        raise ValueError(
            f"its rule needs about {steps:,} steps to reach the dates nurture reads "
            f"(at most {MAX_STEPS:,}); not read as busy time"
        )
    return _Plan(tuple(parts), until, capped)


def _length(component: icalendar.Component, zone: tzinfo, origin: datetime) -> timedelta:
    try:
        if "dtend" in component:
            return max(_as_datetime(component.decoded("dtend"), zone) - origin, timedelta(0))
        if "duration" in component:
            return max(component.decoded("duration"), timedelta(0))
    except UNREADABLE:
        pass
    return timedelta(days=1)


def _series(
    calendar: icalendar.Calendar,
) -> tuple[list[icalendar.Component], dict[str, list[icalendar.Component]]]:
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    groups: dict[str, list[icalendar.Component]] = {}
    for comp in calendar.subcomponents:
        if comp.name == "VEVENT":
            groups.setdefault(str(comp.get("uid", id(comp))), []).append(comp)
    return zones, groups


def _single(
    zones: Iterable[icalendar.Component], comps: Iterable[icalendar.Component]
) -> icalendar.Calendar:
    single = icalendar.Calendar()
    for comp in [*zones, *comps]:
        single.add_component(comp)
    return single


def _occurrences(
    calendar: icalendar.Calendar,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    where: str,
    report: Reports,
) -> Iterator[icalendar.Component]:
    """Every occurrence overlapping [start, end), each series within the bounds."""
    zones, groups = _series(calendar)
    ordinary: list[icalendar.Component] = []
    bounded: list[tuple[str, _Plan]] = []
    for uid, comps in groups.items():
        if len(comps) == 1 and not any(p in comps[0] for p in _REPEATS):
            yield comps[0]  # a single event is its own occurrence (the caller checks the window)
            continue
        try:
            plan = _plan(comps, start, end, zone)
        except UNREADABLE as exc:
            report(where, uid, f"cannot expand its recurrence ({exc})")
            continue
        if plan is None:
            ordinary.extend(comps)
        else:
            bounded.append((uid, plan))
    if ordinary:
        try:
            yield from recurring_ical_events.of(
                _single(zones, ordinary), components=["VEVENT"]
            ).between(start, end)
        except Exception:
            yield from _one_by_one(zones, ordinary, start, end, where, report)
    for uid, plan in bounded:
        try:
            found = recurring_ical_events.of(
                _single(zones, plan.components), components=["VEVENT"]
            ).between(start, plan.until)
        except Exception as exc:
            report(where, uid, f"cannot expand its recurrence ({exc}); skipped")
            continue
        if plan.capped or len(found) > MAX_OCCURRENCES:
            found.sort(key=lambda c: _as_datetime(c.decoded("dtstart"), zone))
            report(
                where,
                uid,
                f"recurs more than {MAX_OCCURRENCES:,} times in the dates nurture reads; "
                f"only the first {MAX_OCCURRENCES:,} are read as busy time",
                "check its repeat rule in your calendar app",
            )
        yield from found[:MAX_OCCURRENCES]


def _one_by_one(
    zones: list[icalendar.Component],
    comps: list[icalendar.Component],
    start: datetime,
    end: datetime,
    where: str,
    report: Reports,
) -> Iterator[icalendar.Component]:
    """Expand each UID on its own, so a broken event is skipped with a warning."""
    groups: dict[str, list[icalendar.Component]] = {}
    for comp in comps:
        groups.setdefault(str(comp.get("uid", id(comp))), []).append(comp)
    for uid, group in groups.items():
        try:
            yield from recurring_ical_events.of(
                _single(zones, group), components=["VEVENT"]
            ).between(start, end)
        except Exception as exc:
            report(where, uid, f"cannot expand its recurrence ({exc}); skipped")


def expand_events(
    calendar: icalendar.Calendar,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    where: str = "",
    report: Reports | None = None,
) -> Iterator[CalendarEvent]:
    """Every VEVENT occurrence overlapping [start, end), except nurture's tasks.

    `where` names the calendar in reports (a file, a CalDAV calendar).
    """
    report = report or Reports()
    for component in _occurrences(calendar, start, end, zone, where, report):
        if is_task(component):
            continue
        try:
            event = event_from_component(component, zone)
        except UNREADABLE as exc:
            report(where, str(component.get("uid", "?")), f"unreadable ({exc}); skipped")
            continue
        if event.start < end and (event.end > start or event.start == event.end >= start):
            yield event


def zone_named(name: str) -> tzinfo:
    """A zoneinfo zone; UTC for an empty name."""
    return ZoneInfo(name) if name else UTC
