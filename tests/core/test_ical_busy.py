"""Which calendar events block time: TRANSP when given, else timed busy and all-day free."""

from __future__ import annotations

from datetime import datetime

import icalendar
import pytest

from nurture.ical import expand_events
from nurture.model import UTC


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
