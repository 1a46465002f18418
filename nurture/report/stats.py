"""The arithmetic the report's figures share: medians, percentiles, shares, days."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..model import UTC

HOUR = 3600.0
DAY = 86400.0
NEVER = datetime.max.replace(tzinfo=UTC)
TICK = timedelta(microseconds=1)  # the smallest step between two datetimes


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return float(ordered[rank - 1])


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def days(delta: timedelta) -> float:
    return delta.total_seconds() / DAY
