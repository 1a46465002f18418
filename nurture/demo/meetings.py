"""The calendar: a weekly team meeting, all-day events, client meetings past and future.

Every past meeting with people outside Brightpath is followed by a recap mail
from Alex within a day (the two that are not are scripted in `scenarios`).
Invitations and acceptances for some future meetings arrive by mail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import people as P
from .calendar import Event, Override, to_ical
from .people import ALEX
from .story import DAYS, LONDON, Story, iso, uid


def run(story: Story) -> None:
    """Alex's calendar for the six months and the two weeks ahead."""
    rng = story.rng
    stamp = story.start
    # The weekly team sync, Mondays 10:00 London, with one cancelled and one moved week.
    first = story.local_day(DAYS)
    while first.weekday() != 0:
        first += timedelta(days=1)
    start = story.at(first, 10.0)
    cancelled = story.at(first + timedelta(weeks=9), 10.0)
    moved_from = story.at(first + timedelta(weeks=15), 10.0)
    moved_to = story.at(first + timedelta(weeks=15, days=1), 14.0)
    story.events.append(
        Event(
            uid=uid(story, "team-sync"),
            summary="Brightpath weekly team sync",
            start=start,
            end=start + timedelta(minutes=45),
            attendees=(P.SAM_P, P.JORDAN, P.CHLOE, P.BEN),
            location="Studio, 2nd floor",
            description="Pipeline, staffing, anything blocking.",
            rrule={"FREQ": "WEEKLY", "BYDAY": "MO"},
            exdates=(cancelled,),
            overrides=(Override(moved_from, moved_to, moved_to + timedelta(minutes=45)),),
            stamp=stamp,
        )
    )
    # All-day: a conference, annual leave, a bank holiday, a future offsite.
    conf = story.workday(story.local_day(70))
    story.events.append(
        Event(
            uid=uid(story, "conference"),
            summary="Service Design Global Conference",
            start=conf,
            end=conf + timedelta(days=2),
            location="ExCeL London",
            transparent=False,
            stamp=stamp,
        )
    )
    leave = sorted(story.leave)
    story.events.append(
        Event(
            uid=uid(story, "leave"),
            summary="Annual leave",
            start=leave[0],
            end=leave[-1] + timedelta(days=1),
            stamp=stamp,
        )
    )
    holiday = story.workday(story.local_day(130))
    story.events.append(
        Event(
            uid=uid(story, "holiday"),
            summary="Bank holiday",
            start=holiday,
            end=holiday + timedelta(days=1),
            transparent=True,
            stamp=stamp,
        )
    )
    offsite = story.workday(story.local_day(-9), back=False)
    story.events.append(
        Event(
            uid=uid(story, "offsite"),
            summary="Brightpath team offsite",
            start=offsite,
            end=offsite + timedelta(days=1),
            attendees=(P.SAM_P, P.JORDAN, P.CHLOE, P.BEN),
            location="Kew Gardens",
            stamp=stamp,
        )
    )
    # Past client meetings, each followed by a recap from Alex within a day.
    series = (
        (P.DANA, (P.KIM,), 28, "Northwind monthly review"),
        (P.PRIYA, (P.OLIVER,), 30, "Halden Bank steering group"),
        (P.JUERGEN, (), 45, "Kessler portal check-in"),
        (P.GARETH, (), 40, "Fernhill progress review"),
        (P.MAYA, (), 50, "Orchard Foods dashboard demo"),
    )
    for lead, others, every, title in series:
        days_ago = DAYS - rng.uniform(5, every)
        while days_ago > 8:
            day = story.workday(story.local_day(days_ago))
            hour = 15.0 if lead.tz == P.NEW_YORK else rng.choice((10.0, 11.0, 14.0))
            begin = _free(story, story.at(day, hour), timedelta(hours=1))
            end = begin + timedelta(hours=1)
            ev = Event(
                uid=uid(story, "meeting"),
                summary=title,
                start=begin,
                end=end,
                attendees=(lead, *others),
                location="Video call",
                stamp=stamp,
            )
            story.events.append(ev)
            recap_at = story.settle(end + timedelta(hours=rng.uniform(0.3, 20.0)), ALEX)
            if recap_at > end + timedelta(hours=30):
                # Before a weekend or leave the recap goes out the same evening.
                recap_at = end + timedelta(hours=rng.uniform(0.5, 3.0))
            recap = story.mail(
                ALEX,
                (lead,),
                recap_at,
                f"Recap: {title}",
                f"Hi {lead.first},\n\nThanks for today. A short recap:\n\n"
                "- We agreed the scope for the next sprint.\n"
                "- Brightpath updates the prototype with the new filters.\n"
                f"- {lead.org} shares the latest volumes with Chloe.\n\nBest,\nAlex",
                cc=others,
            )
            story.meetings.append(
                {
                    "uid": ev.uid,
                    "summary": title,
                    "start": iso(begin),
                    "end": iso(end),
                    "attendees": [p.address for p in ev.attendees],
                    "recap_message_id": recap.message_id,
                    "recap_at": iso(recap.date),
                }
            )
            story.negative("recap-sent", recap, lead)
            days_ago -= every * rng.uniform(0.85, 1.15)
    # Future meetings over the next two weeks: busy time for scheduling.
    future = (
        (1, 10.0, 1.0, "Northwind roadmap planning", (P.DANA, P.KIM), P.ALEX),
        (1, 14.0, 0.5, "Pipeline review", (P.SAM_P, P.JORDAN), P.ALEX),
        (2, 9.5, 2.0, "Kessler portal migration workshop", (P.JUERGEN,), P.ALEX),
        (3, 11.0, 1.0, "Payments roadmap review", (P.OLIVER,), P.PRIYA),
        (3, 15.0, 1.0, "Quote walkthrough", (P.GARETH,), P.ALEX),
        (4, 13.0, 1.5, "Lumen booking app sprint demo", (P.SAM_O,), P.ALEX),
        (6, 10.0, 3.0, "Design critique", (P.CHLOE, P.BEN), P.ALEX),
        (7, 16.0, 1.0, "Orchard Foods quarterly review", (P.MAYA,), P.ALEX),
        (8, 9.0, 1.0, "Atlas Freight follow-up", (P.LENA,), P.ALEX),
        (10, 14.0, 1.0, "Bluewater proposal presentation", (P.NINA,), P.ALEX),
    )
    for ahead, hour, length, title, attendees, organizer in future:
        day = story.workday(story.local_day(-ahead), back=False)
        begin = _free(story, story.at(day, hour), timedelta(hours=length))
        if organizer is P.ALEX:
            ev = Event(
                uid=uid(story, "meeting"),
                summary=title,
                start=begin,
                end=begin + timedelta(hours=length),
                attendees=attendees,
                location="Video call",
                stamp=stamp,
            )
        else:
            ev = Event(
                uid=uid(story, "meeting"),
                summary=title,
                start=begin,
                end=begin + timedelta(hours=length),
                organizer=organizer,
                attendees=(ALEX, *attendees),
                location="Halden Bank, 1 Canal Street",
                stamp=stamp,
            )
            # The organizer's invitation in the inbox.
            sent = story.work_time(story.workday(story.local_day(4)), organizer)
            invite = story.mail(
                organizer,
                (ALEX,),
                sent,
                f"Invitation: {title} @ {begin.astimezone(LONDON):%a %d %b %Y %H:%M}",
                f"{organizer.name} has invited you to {title}.\n\nWhen: "
                f"{begin.astimezone(LONDON):%A %d %B %Y, %H:%M} (London)\nWhere: {ev.location}\n",
                calendar=("REQUEST", to_ical(ev, "REQUEST")),
                signature=False,
                html=False,
            )
            story.negative("invitation", invite, organizer)
        story.events.append(ev)
    # Time that looks taken but is free: a cancelled talk, a day working from home.
    day = story.workday(story.local_day(-2), back=False)
    begin = _free(story, story.at(day, 12.5), timedelta(hours=1))
    story.events.append(
        Event(
            uid=uid(story, "lunch-talk"),
            summary="Lunch & learn: accessibility basics (cancelled)",
            start=begin,
            end=begin + timedelta(hours=1),
            attendees=(P.SAM_P, P.CHLOE, P.BEN),
            location="Studio, 2nd floor",
            cancelled=True,
            stamp=stamp,
        )
    )
    wfh = story.workday(story.local_day(-5), back=False)
    story.events.append(
        Event(
            uid=uid(story, "wfh"),
            summary="Working from home",
            start=wfh,
            end=wfh + timedelta(days=1),
            transparent=True,
            stamp=stamp,
        )
    )
    # Acceptances of Alex's invitations.
    for ev in story.events:
        if ev.summary in ("Quote walkthrough", "Bluewater proposal presentation"):
            guest = ev.attendees[0]
            sent_at = story.work_time(story.workday(story.local_day(2)), guest)
            acc = story.mail(
                guest,
                (ALEX,),
                sent_at,
                f"Accepted: {ev.summary} @ {ev.start:%a %d %b %Y}",
                f"{guest.name} has accepted this invitation.\n",
                calendar=("REPLY", to_ical(ev, "REPLY")),
                signature=False,
                html=False,
            )
            story.negative("invitation", acc, guest)


def _free(story: Story, begin: datetime, length: timedelta) -> datetime:
    """`begin`, or the next whole hour that day that clashes with nothing on the calendar."""
    busy = [
        (e.start, e.end)
        for e in story.events
        if isinstance(e.start, datetime) and isinstance(e.end, datetime) and e.rrule is None
    ]
    for _ in range(8):
        local = begin.astimezone(LONDON)
        team_sync = local.weekday() == 0 and local.hour < 11 and (local + length).hour >= 10
        if not team_sync and not any(s < begin + length and begin < e for s, e in busy):
            return begin
        begin += timedelta(hours=1)
    return begin
