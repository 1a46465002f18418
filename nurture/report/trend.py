"""The weekly trend: the headline figures week by week (Monday to Monday, the user's zone)."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..model import UTC
from .asks import Asked, Asks, Promised
from .keep import Contact
from .nudges import History
from .records import Week
from .stats import NEVER, median, ratio, rounded


def weeks(since: datetime, now: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Monday-to-Monday weeks in `zone` covering [since, now), clipped to it."""
    local = since.astimezone(zone)
    monday: date = local.date() - timedelta(days=local.weekday())
    spans = []
    start = since
    while start < now:
        monday += timedelta(days=7)
        end = min(datetime.combine(monday, datetime.min.time(), zone).astimezone(UTC), now)
        spans.append((start, end))
        start = end
    return spans


class Trend:
    """The weekly trend's inputs, sorted once so that each week is a few bisections.

    Open items are counted at the week's end over a period-long window; asks,
    questions and promises are judged as of `now`.
    """

    def __init__(
        self,
        period: timedelta,
        found: Asks,
        contacts: Sequence[Contact],
        history: History,
        now: datetime,
    ) -> None:
        """`found`: every ask, question and promise (not only the period's); `history`:
        the nudge history of the contacts the report is about."""
        self.period, self.now, self.contacts = period, now, contacts
        self.asks: list[Asked] = sorted(found.asks, key=lambda a: a.message.date)
        self.ask_dates = [a.message.date for a in self.asks]
        self.ask_open = [a.open_until for a in self.asks]
        ordered = sorted(found.questions, key=lambda q: q.message.date)
        self.question_dates = [q.message.date for q in ordered]
        self.question_open = [q.answer_at or NEVER for q in ordered]  # waiting while end <= this
        self.promises: list[Promised] = sorted(found.promises, key=lambda p: p.due)
        self.dues = [p.due for p in self.promises]
        self.actions = sorted(
            ((at, action) for at, _, _, _, action in history), key=lambda item: item[0]
        )
        self.action_times = [at for at, _ in self.actions]

    def weeks(self, since: datetime, zone: ZoneInfo) -> tuple[Week, ...]:
        """Each week of [since, now) in `zone`."""
        return tuple(self.week(start, end) for start, end in weeks(since, self.now, zone))

    def week(self, start: datetime, end: datetime) -> Week:
        now = self.now
        first = bisect.bisect_left(self.ask_dates, start)
        last = bisect.bisect_left(self.ask_dates, end)
        inside = self.asks[first:last]
        hours = [h for a in inside if (h := a.reply_hours) is not None]
        judged = [a for a in inside if a.judged(now)]
        within = sum(1 for a in judged if a.within())
        window = end - self.period
        opened = bisect.bisect_left(self.ask_dates, window)
        asked_from = bisect.bisect_left(self.question_dates, window)
        asked_to = bisect.bisect_left(self.question_dates, end)
        due = Counter(
            p.status(now)
            for p in self.promises[
                bisect.bisect_left(self.dues, start) : bisect.bisect_left(self.dues, end)
            ]
        )
        states = Counter(c.status_at(end) for c in self.contacts)
        times = self.action_times
        upto = bisect.bisect_right(times, end) if end == now else bisect.bisect_left(times, end)
        begin = bisect.bisect_left(times, start)
        actions = Counter(action for _, action in self.actions[begin:upto])
        return Week(
            start=start,
            end=end,
            asked=len(inside),
            answered=len(hours),
            judged=len(judged),
            median_reply_hours=rounded(median(hours)),
            within_share=rounded(ratio(within, len(judged)), 4),
            open_debts=sum(1 for until in self.ask_open[opened:last] if end <= until),
            questions_waiting=sum(
                1 for until in self.question_open[asked_from:asked_to] if end <= until
            ),
            promises_on_time=due["on-time"],
            promises_late=due["late"],
            promises_missed=due["missed"],
            contacts_within=states["within"],
            contacts_due=states["due"],
            contacts_lapsed=states["lapsed"],
            nudges_placed=actions["placed"],
            nudges_done=actions["done"],
            nudges_dismissed=actions["dismissed"],
        )
