"""iCalendar in and out, shared by every connector that speaks it (local, CalDAV).

Tasks are written with the `icalendar` library, which escapes CR/LF, commas and
semicolons and folds long lines, so no subject can break the file. Reading
expands recurrences with `recurring_ical_events` (RRULE, RDATE, EXDATE and
edited occurrences). Floating times and all-day dates are placed in the
zone the caller names: a naive datetime never leaves this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from .connector import DIGEST, MARKER
from .model import UTC, Address, CalendarEvent, CalendarTask, TaskRecord, TaskStatus

log = logging.getLogger(__name__)

PRODID = "-//nurture//nurture follow-ups//EN"
CATEGORY = "nurture"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_SUMMARY = 200
MAX_DESCRIPTION = 4000


def clean_text(value: str, limit: int) -> str:
    """Drop control characters (CR included) and cut to `limit` characters."""
    value = _CONTROL.sub(" ", value.replace("\r\n", "\n"))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def task_component(task: CalendarTask, digest: str, stamp: datetime) -> icalendar.Component:
    """The VEVENT (or VTODO) for `task`, carrying nurture's marker and digest."""
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
    comp.add(DIGEST, digest)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", clean_text(task.title, MAX_SUMMARY).replace("\n", " "))
    alarm.add("trigger", timedelta(0))
    comp.add_component(alarm)
    return comp


def task_calendar(task: CalendarTask, digest: str, stamp: datetime) -> bytes:
    """A whole VCALENDAR holding one task, as bytes for a vdir file or a CalDAV PUT."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add_component(task_component(task, digest, stamp))
    return cal.to_ical()


def is_task(component: icalendar.Component) -> bool:
    return MARKER in component


def _as_datetime(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), zone).astimezone(UTC)


def record_from_component(component: icalendar.Component, ref: str, zone: tzinfo) -> TaskRecord:
    """Read one of nurture's tasks back, with whatever the user changed."""
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
        digest=str(component.get(DIGEST, "")),
        title=str(component.get("summary", "")),
    )


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


def expand_events(
    calendar: icalendar.Calendar, start: datetime, end: datetime, zone: tzinfo
) -> Iterator[CalendarEvent]:
    """Every VEVENT occurrence overlapping [start, end), except nurture's tasks."""
    try:
        occurrences = list(
            recurring_ical_events.of(calendar, components=["VEVENT"]).between(start, end)
        )
    except Exception:
        occurrences = list(_expand_one_by_one(calendar, start, end))
    for component in occurrences:
        if is_task(component):
            continue
        try:
            yield event_from_component(component, zone)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            log.warning(
                "event %s: unreadable (%s); skipped — fix it in your calendar app",
                component.get("uid", "?"),
                exc,
            )


def _expand_one_by_one(
    calendar: icalendar.Calendar, start: datetime, end: datetime
) -> Iterator[icalendar.Component]:
    """Expand each UID on its own, so a broken event is skipped with a warning."""
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    groups: dict[str, list[icalendar.Component]] = {}
    for comp in calendar.subcomponents:
        if comp.name == "VEVENT":
            groups.setdefault(str(comp.get("uid", id(comp))), []).append(comp)
    for uid, comps in groups.items():
        single = icalendar.Calendar()
        for comp in [*zones, *comps]:
            single.add_component(comp)
        try:
            yield from recurring_ical_events.of(single, components=["VEVENT"]).between(start, end)
        except Exception as exc:
            log.warning(
                "event %s: cannot expand its recurrence (%s); skipped — fix it in "
                "your calendar app",
                uid,
                exc,
            )


def zone_named(name: str) -> tzinfo:
    """A zoneinfo zone; UTC for an empty name."""
    return ZoneInfo(name) if name else UTC
