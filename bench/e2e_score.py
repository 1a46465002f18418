"""The end-to-end benchmark's arithmetic: decisions, ranking, and nudges per week.

Plain functions over plain numbers, so tests can check them on hand-made cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Decisions:
    """How one set of nudges fared: true positives, false positives, positives missed."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Decisions) -> Decisions:
        return Decisions(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


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


def roc_auc(scores: Sequence[float], truth: Sequence[bool]) -> float | None:
    """The probability that a random positive scores above a random negative (ties: half).

    None when either class is empty. Mann-Whitney over ranks, so O(n log n).
    """
    pairs = sorted(zip(scores, truth, strict=True), key=lambda p: p[0])
    positives = sum(1 for _, t in pairs if t)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += mid_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


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
