"""Six months of Alex Morgan's mail and calendar: who writes how often, and in what order.

`build(anchor)` returns the finished `Story`. The order of the steps is part
of the output: every step draws from the same seeded random source.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from . import machines, meetings, scenarios
from . import people as P
from .story import DAYS, INTERNAL, SEED, UTC, Rhythm, Story, everyday


def build(anchor: datetime) -> Story:
    """Write the whole six months for this anchor."""
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    story = Story(anchor=anchor.astimezone(UTC), rng=random.Random(SEED))
    _leave(story)
    meetings.run(story)
    _everyday(story)
    machines.run(story)
    scenarios.run(story)
    story.mails.sort(key=lambda m: (m.date, m.message_id))
    return story


def _leave(story: Story) -> None:
    """A week of annual leave about three months back."""
    first = story.workday(story.local_day(95), back=False)
    while first.weekday() != 0:
        first += timedelta(days=1)
    story.leave.update(first + timedelta(days=i) for i in range(5))


def _everyday(story: Story) -> None:
    rhythms = [
        Rhythm(P.DANA, 5.0, 12),
        Rhythm(P.KIM, 7.0, 3),
        Rhythm(P.PRIYA, 6.0, 6),
        Rhythm(P.OLIVER, 20.0, 10),
        Rhythm(P.JUERGEN, 10.0, 4),
        Rhythm(P.SAM_O, 8.0, 12),
        Rhythm(P.MAYA, 9.0, 10),
        Rhythm(P.GARETH, 10.0, 9),
        Rhythm(P.LENA, 12.0, 6),
        Rhythm(P.SAM_P, 3.0, 1, kinds=INTERNAL),
        Rhythm(P.JORDAN, 5.0, 2, kinds=INTERNAL),
        Rhythm(P.CHLOE, 4.0, 1, kinds=INTERNAL),
        Rhythm(P.BEN, 4.0, 2, kinds=INTERNAL),
        # Kept in touch for months, then went quiet: reconnect.
        Rhythm(P.HELEN, 21.0, 66),
        Rhythm(P.TOM, 14.0, 52, since=DAYS - 5),
        # Steady and still within their rhythm.
        Rhythm(P.ROSA, 28.0, 9),
        Rhythm(P.IAN, 30.0, 6),
    ]
    for rhythm in rhythms:
        if rhythm.person is P.OLIVER:
            everyday(story, rhythm, auto_reply_on=1, auto_text="Automatic reply")
        elif rhythm.person is P.JUERGEN:
            everyday(story, rhythm, auto_reply_on=2, auto_text="Abwesenheitsnotiz")
        else:
            everyday(story, rhythm)
    for person in (P.HELEN, P.TOM):
        last = max((m for m in story.mails if person in (m.sender, *m.to)), key=lambda m: m.date)
        story.expect(
            "reconnect",
            person,
            None,
            f"wrote both ways about every {story.cadence[person.address]:.0f} days for months; "
            f"quiet since {last.date:%d %b}",
        )
    for person in (P.ROSA, P.IAN, P.KIM, P.JUERGEN):
        last = max((m for m in story.mails if person in (m.sender, *m.to)), key=lambda m: m.date)
        story.negative("within-cadence", last, person)
