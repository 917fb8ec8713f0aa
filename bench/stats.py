"""Percentiles as the report states them: nearest rank, so p99 is a latency some frame really had."""

import math
from typing import Optional, Sequence


def percentile(values: Sequence[float], share: float) -> Optional[float]:
    """The smallest value with at least `share` (0..100) percent of the values at or below it; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]
