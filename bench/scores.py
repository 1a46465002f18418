"""The arithmetic every benchmark scores with: a confusion matrix and ROC AUC.

Plain functions over plain numbers, shared by `eval.py` (signals on labelled text) and
`e2e.py` (nudges on a replayed mailbox), so both read the same precision and AUC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Counts:
    """A confusion matrix for one binary decision (`tn` 0 where nobody counts them)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, truth: Iterable[bool], predicted: Iterable[bool]) -> Counts:
        c = Counter(zip(truth, predicted, strict=True))
        return cls(c[(True, True)], c[(False, True)], c[(True, False)], c[(False, False)])

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

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

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0


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
