"""The end-to-end benchmark's arithmetic: decisions, ranking, and nudges per week.

Plain functions over plain numbers, so tests can check them on hand-made cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scores import Counts

Decisions = Counts  # how one set of nudges fared (`tn` stays 0: nobody counts them)


def decide(positives: set[str], predicted: set[str]) -> Decisions:
    """Nudges `predicted` against the `positives` (both sets of Message-IDs).

    A nudge outside the labelled messages (already answered, not addressed to the
    person, a machine's) is a false positive like any other wrong task.
    """
    return Decisions(
        tp=len(predicted & positives),
        fp=len(predicted - positives),
        fn=len(positives - predicted),
    )


@dataclass(frozen=True, slots=True)
class Weekly:
    """Tasks created per week over a span: the mean and the busiest week."""

    weeks: int
    mean: float
    max: int


def per_week(times: Iterable[datetime], start: datetime, end: datetime) -> Weekly:
    """Count `times` from `start` to `end` (both included) in whole weeks from `start`.

    The days after the last whole week are left out, except `end` itself, which
    counts in the last week (the run at the last cutoff is scored). A span shorter
    than a week counts as one week, scaled to it, so a short run still says
    something; times outside the span are not counted.
    """
    span = end - start
    weeks = int(span / timedelta(days=7))
    counts = [0] * max(weeks, 1)
    for t in times:
        if start <= t <= end:
            index = int((t - start) / timedelta(days=7))
            if t == end:
                index = len(counts) - 1
            if index < len(counts):
                counts[index] += 1
    if weeks == 0:
        days = max(span / timedelta(days=1), 1.0)
        scaled = counts[0] * 7 / days
        return Weekly(0, round(scaled, 2), round(scaled))
    return Weekly(weeks, round(sum(counts) / weeks, 2), max(counts))


def evenly(first: datetime, last: datetime, count: int) -> list[datetime]:
    """`count` cutoffs spread evenly from `first` to `last`, both included, whole days."""
    if count <= 1 or last <= first:
        return [last]
    step = (last - first) / (count - 1)
    days = [first + step * i for i in range(count)]
    return sorted({d.replace(hour=0, minute=0, second=0, microsecond=0) for d in days})
