"""Which calendar events block time: TRANSP when given, else timed busy and all-day free."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from unittest.mock import patch

import icalendar
import pytest
import recurring_ical_events
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nurture import ical
from nurture.ical import MAX_OCCURRENCES, calendar_for, event_from_component, expand_events
from nurture.model import UTC, CalendarEvent


def _events(body: str) -> dict[str, bool]:
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"
    calendar = icalendar.Calendar.from_ical(text)
    found = expand_events(
        calendar, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), UTC
    )
    return {event.summary: event.busy for event in found}


def _vevent(summary: str, start: str, end: str, transp: str = "") -> str:
    line = f"TRANSP:{transp}\r\n" if transp else ""
    return (
        f"BEGIN:VEVENT\r\nUID:{summary}@test\r\nDTSTAMP:20260301T000000Z\r\n"
        f"DTSTART{start}\r\nDTEND{end}\r\nSUMMARY:{summary}\r\n{line}END:VEVENT\r\n"
    )


@pytest.mark.parametrize(
    ("summary", "start", "end", "transp", "busy"),
    [
        ("meeting", ":20260304T100000Z", ":20260304T110000Z", "", True),
        ("focus marked free", ":20260304T120000Z", ":20260304T130000Z", "TRANSPARENT", False),
        ("holiday", ";VALUE=DATE:20260305", ";VALUE=DATE:20260306", "", False),
        ("vacation", ";VALUE=DATE:20260309", ";VALUE=DATE:20260314", "OPAQUE", True),
        ("birthday", ";VALUE=DATE:20260310", ";VALUE=DATE:20260311", "TRANSPARENT", False),
    ],
)
def test_busy_follows_transp_and_all_day_default(
    summary: str, start: str, end: str, transp: str, busy: bool
) -> None:
    assert _events(_vevent(summary, start, end, transp)) == {summary: busy}


# -- hostile recurrences: bounded, reported, and exact where they are moved forward ----------

WINDOW = (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))


def _read(body: str, start: datetime = WINDOW[0], end: datetime = WINDOW[1]) -> list[CalendarEvent]:
    data = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"
    calendar = calendar_for(data.encode(), "hostile.ics", start, end)
    assert calendar is not None
    return list(expand_events(calendar, start, end, UTC, "hostile.ics"))


def _rule(uid: str, start: str, rule: str, length: str = "PT1S") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\n"
        f"DURATION:{length}\r\nRRULE:{rule}\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\n"
    )


def test_an_endless_secondly_rule_is_capped_and_named(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        events = _read(_rule("every-second@x", "20261101T090000Z", "FREQ=SECONDLY"))
    assert len(events) == MAX_OCCURRENCES
    assert events[0].start == WINDOW[0]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "hostile.ics" in warning and "every-second@x" in warning


def test_a_rule_too_long_to_walk_is_skipped_and_named(caplog: pytest.LogCaptureFixture) -> None:
    body = _rule("counted@x", "20000101T090000Z", "FREQ=SECONDLY;COUNT=999999999")
    body += _rule("fine@x", "20261102T100000Z", "FREQ=DAILY;COUNT=3", "PT1H")
    with caplog.at_level(logging.WARNING):
        events = _read(body)
    assert [e.uid for e in events] == ["fine@x"]
    assert any("counted@x" in r.getMessage() for r in caplog.records)


def test_a_minutely_rule_from_2000_is_read_exactly_in_the_window() -> None:
    events = _read(_rule("minutely@x", "20000101T000000Z", "FREQ=MINUTELY;INTERVAL=7", "PT2M"))
    first, step = datetime(2000, 1, 1, tzinfo=UTC), timedelta(minutes=7)
    n = (WINDOW[0] - timedelta(minutes=2) - first) // step + 1  # the first that ends inside
    expected = []
    while first + n * step < WINDOW[1]:
        expected.append(first + n * step)
        n += 1
    assert len(expected) > 200
    assert [e.start for e in events] == expected


ZONES = ("UTC", "Europe/Berlin", "America/New_York")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    freq=st.sampled_from(["HOURLY", "DAILY", "WEEKLY"]),
    interval=st.integers(1, 4),
    zone=st.sampled_from(ZONES),
    days_before=st.integers(3, 150),
    hour=st.integers(0, 23),
    by_day=st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), max_size=3),
    by_hour=st.lists(st.integers(0, 23), max_size=2),
    until_days=st.one_of(st.none(), st.integers(-5, 20)),
    all_day=st.booleans(),
)
def test_moving_a_rule_forward_gives_what_walking_it_gives(
    freq: str,
    interval: int,
    zone: str,
    days_before: int,
    hour: int,
    by_day: list[str],
    by_hour: list[int],
    until_days: int | None,
    all_day: bool,
) -> None:
    """The bounded expansion (rules moved to the window) against the library walking them."""
    start, end = datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    first = datetime(2026, 10, 20, hour, 30) - timedelta(days=days_before)
    if all_day:
        if freq == "HOURLY":
            freq = "DAILY"
        by_hour = []
        after = first + timedelta(days=1)
        dtstart = f"DTSTART;VALUE=DATE:{first:%Y%m%d}\r\nDTEND;VALUE=DATE:{after:%Y%m%d}"
    else:
        dtstart = f"DTSTART;TZID={zone}:{first:%Y%m%dT%H%M%S}\r\nDURATION:PT45M"
    rule = f"FREQ={freq};INTERVAL={interval}"
    if by_day:
        rule += f";BYDAY={','.join(sorted(set(by_day)))}"
    if by_hour:
        rule += f";BYHOUR={','.join(str(h) for h in sorted(set(by_hour)))}"
    if until_days is not None:
        rule += f";UNTIL={datetime(2026, 10, 20) + timedelta(days=until_days):%Y%m%dT%H%M%SZ}"
    skipped = first + timedelta(days=days_before + 3)
    body = (
        f"BEGIN:VEVENT\r\nUID:r@x\r\nDTSTAMP:20260101T000000Z\r\n{dtstart}\r\n"
        f"RRULE:{rule}\r\nEXDATE;TZID={zone}:{skipped:%Y%m%dT%H%M%S}\r\n"
        "SUMMARY:r\r\nEND:VEVENT\r\n"
    )
    data = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"
    calendar = icalendar.Calendar.from_ical(data)
    try:
        found = recurring_ical_events.of(calendar).between(start, end)
    except Exception:  # a rule that can never occur (dateutil refuses it): nothing to compare
        assume(False)
    walked = sorted(
        (e.start, e.end)
        for e in (event_from_component(c, UTC) for c in found)
        if e.start < end and e.end > start
    )
    with patch.object(ical, "MOVE_AFTER", 0), patch.object(ical, "MAX_OCCURRENCES", 10**6):
        moved = sorted((e.start, e.end) for e in expand_events(calendar, start, end, UTC))
    assert moved == walked


def test_a_huge_time_zone_is_ignored_and_named(caplog: pytest.LogCaptureFixture) -> None:
    parts = [
        f"BEGIN:STANDARD\r\nDTSTART:{1601 + n}1025T030000\r\nTZOFFSETFROM:+0200\r\n"
        f"TZOFFSETTO:+0100\r\nTZNAME:N{n}\r\nEND:STANDARD\r\n"
        for n in range(1200)
    ]
    zone = "BEGIN:VTIMEZONE\r\nTZID:Bloated\r\n" + "".join(parts) + "END:VTIMEZONE\r\n"
    assert len(zone) > ical.MAX_TIMEZONE_BYTES
    event = (
        "BEGIN:VEVENT\r\nUID:z@x\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Bloated:20261102T100000\r\nDTEND;TZID=Bloated:20261102T110000\r\n"
        "SUMMARY:z\r\nEND:VEVENT\r\n"
    )
    with caplog.at_level(logging.WARNING):
        (found,) = _read(zone + event)
    assert found.start == datetime(2026, 11, 2, 10, tzinfo=UTC)  # read as local (here UTC)
    assert any("Bloated" in r.getMessage() and "hostile.ics" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_events_far_outside_the_window_are_not_parsed() -> None:
    far = "".join(
        f"BEGIN:VEVENT\r\nUID:old{n}@x\r\nDTSTAMP:20100101T000000Z\r\nDTSTART:2010{1 + n % 12:02d}"
        f"01T090000Z\r\nDTEND:2010{1 + n % 12:02d}01T100000Z\r\nSUMMARY:old\r\nEND:VEVENT\r\n"
        for n in range(500)
    )
    near = "BEGIN:VEVENT\r\nUID:near@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\n"
    near += "DTEND:20261102T100000Z\r\nSUMMARY:near\r\nEND:VEVENT\r\n"
    long = "BEGIN:VEVENT\r\nUID:long@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261001T090000Z\r\n"
    long += "DURATION:P40D\r\nSUMMARY:sabbatical\r\nEND:VEVENT\r\n"
    short = long.replace("long@x", "short@x").replace("P40D", "PT1H")
    body = far + near + long + short
    data = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}END:VCALENDAR\r\n"
    calendar = calendar_for(data.encode(), "big.ics", *WINDOW)
    assert calendar is not None
    assert [str(c["uid"]) for c in calendar.walk("VEVENT")] == ["near@x", "long@x"]
