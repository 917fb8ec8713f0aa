"""How long to wait before the next try, after a run of failures: one policy for every retry loop."""

import random as _random
from typing import Callable


class Backoff:
    """Delays from `first`, each `factor` times the one before, up to `cap`; back to `first` after reset().

    With `jitter` (0 to 1) each delay is drawn from [(1 - jitter) * d, d] for the unjittered d, and
    never below `first`, so many clients retrying together spread out. `random` returns [0, 1).
    """

    def __init__(self, first: float, cap: float, factor: float = 2.0, jitter: float = 0.0,
                 random: Callable[[], float] = _random.random):
        if not 0 < first <= cap:
            raise ValueError(f"expected 0 < first <= cap, got first={first}, cap={cap}")
        if factor < 1 or not 0 <= jitter <= 1:
            raise ValueError(f"expected factor >= 1 and jitter from 0 to 1, got {factor}, {jitter}")
        self.first = first
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.random = random
        self.failures = 0  # next() calls since the last reset()
        self._next = first

    def next(self) -> float:
        """The delay after one more failure."""
        delay = self._next
        self._next = min(delay * self.factor, self.cap)
        self.failures += 1
        if self.jitter:
            delay = max(self.first, delay * (1 - self.jitter + self.jitter * self.random()))
        return delay

    def reset(self) -> None:
        """A success: the next failure waits `first` again."""
        self._next = self.first
        self.failures = 0
