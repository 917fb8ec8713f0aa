"""When the next cycle runs: a pure policy over times the caller passes in (monotonic seconds).

Fixed-rate at the interval; exponential backoff with jitter from the interval up to 5 minutes
while Connect is unreachable or overloaded; every 5 minutes while it refuses the credentials;
and never an upload started less than 10 s after the previous one finished, whatever the mix:
Connect measures its one-image-per-10-s limit between arrivals, so a floor kept between starts
lets network jitter bring two arrivals closer than 10 s.
"""

import enum
import math
import random as _random
from typing import Callable, Optional

from appliance.backoff import Backoff

FLOOR = 10.0
BACKOFF_CAP = 300.0
SLOW_RETRY = 300.0


class Pace(enum.Enum):
    NORMAL = "normal"  # uploaded, or Connect answered: back to the interval
    SKIP = "skip"  # nothing to upload this cycle: try again at the next tick
    BACKOFF = "backoff"  # Connect unreachable or overloaded
    SLOW = "slow"  # Connect refuses the credentials or the address: retry every 5 minutes


class Schedule:
    def __init__(self, interval: float, start: float, *, floor: float = FLOOR, backoff_cap: float = BACKOFF_CAP,
                 slow_retry: float = SLOW_RETRY, random: Callable[[], float] = _random.random):
        self.interval = max(interval, floor)
        self.floor = floor
        self.slow_retry = slow_retry
        self.due = start
        self._backoff = Backoff(self.interval, max(backoff_cap, self.interval), jitter=0.5, random=random)
        self._last_upload_end: Optional[float] = None

    @property
    def failures(self) -> int:
        """Cycles in a row that found Connect unreachable or overloaded."""
        return self._backoff.failures

    def next(self, pace: Pace, *, started: float, now: float, uploaded: bool) -> float:
        """The due time of the next cycle, after one that `started` and ended `now`."""
        if uploaded:
            self._last_upload_end = now
        if pace is Pace.BACKOFF:
            due = now + self._backoff.next()
        elif pace is Pace.SLOW:
            self._backoff.reset()
            due = now + self.slow_retry
        else:
            if pace is Pace.NORMAL:
                self._backoff.reset()
            due = self.due + self.interval
            if due < now:  # the cycle overran: skip the missed ticks instead of bursting
                due += math.ceil((now - due) / self.interval) * self.interval
        if self._last_upload_end is not None:
            due = max(due, self._last_upload_end + self.floor)
        self.due = due
        return due
