"""Demo calendar events as data, rendered to one .ics file each (a vdir, as khal uses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar

from .people import ALEX, LONDON, Person

PRODID = "-//Brightpath//nurture demo//EN"

# A compact VTIMEZONE as desktop clients write it (rules, not a list of dates).
LONDON_VTIMEZONE = """\
BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:DAYLIGHT
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
TZNAME:BST
DTSTART:19700329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
TZNAME:GMT
DTSTART:19701025T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


@dataclass(frozen=True, slots=True)
class Override:
    """One moved occurrence of a recurring event (RECURRENCE-ID)."""

    recurrence_id: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """One calendar event. `start`/`end` are aware datetimes, or dates for all-day events.

    `external` marks meetings with people outside Brightpath, which want a recap.
    """

    uid: str
    summary: str
    start: datetime | date
    end: datetime | date
    organizer: Person = ALEX
    attendees: tuple[Person, ...] = ()
    location: str = ""
    description: str = ""
    rrule: dict[str, object] | None = None
    exdates: tuple[datetime, ...] = ()
    overrides: tuple[Override, ...] = ()
    transparent: bool = False
    cancelled: bool = False
    stamp: datetime | None = None

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def external(self) -> tuple[Person, ...]:
        return tuple(
            p for p in (self.organizer, *self.attendees) if p.domain != "brightpath.example"
        )


def _local(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(LONDON))
    return value


def _vevent(event: Event, start: datetime | date, end: datetime | date) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", event.uid)
    ev.add("dtstamp", event.stamp)
    ev.add("dtstart", _local(start))
    ev.add("dtend", _local(end))
    ev.add("summary", event.summary)
    if event.location:
        ev.add("location", event.location)
    if event.description:
        ev.add("description", event.description)
    if event.attendees:
        org = icalendar.vCalAddress(f"mailto:{event.organizer.address}")
        org.params["CN"] = event.organizer.name
        ev.add("organizer", org)
        for person in (event.organizer, *event.attendees):
            att = icalendar.vCalAddress(f"mailto:{person.address}")
            att.params["CN"] = person.name
            att.params["ROLE"] = "REQ-PARTICIPANT"
            att.params["PARTSTAT"] = "ACCEPTED"
            ev.add("attendee", att)
    ev.add("transp", "TRANSPARENT" if event.transparent else "OPAQUE")
    ev.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    return ev


def to_ical(event: Event, method: str | None = None) -> str:
    """The event as a complete VCALENDAR (with VTIMEZONE), CRLF line ends."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    main = _vevent(event, event.start, event.end)
    if event.rrule:
        main.add("rrule", event.rrule)
    for ex in event.exdates:
        main.add("exdate", _local(ex))
    cal.add_component(main)
    for ov in event.overrides:
        moved = _vevent(event, ov.start, ov.end)
        moved.add("recurrence-id", _local(ov.recurrence_id))
        cal.add_component(moved)
    if not event.all_day:
        cal.subcomponents.insert(0, icalendar.Timezone.from_ical(LONDON_VTIMEZONE))
    return cal.to_ical().decode("utf-8")
