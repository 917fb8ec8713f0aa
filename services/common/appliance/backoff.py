"""How long to wait before the next try, after a run of failures: one policy for every retry loop."""

import random as _random
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Backoff:
    """Delays from `first`, each `factor` times the one before, up to `cap`; back to `first` after reset().

    With `jitter` (0 to 1) each delay is drawn from [(1 - jitter) * d, d] for the unjittered d, and
    never below `first`, so many clients retrying together spread out. `random` returns [0, 1).
    """

    first: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.0
    random: Callable[[], float] = field(default=_random.random, repr=False)
    failures: int = field(default=0, init=False)  # next() calls since the last reset()
    _next: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self):
        if not 0 < self.first <= self.cap:
            raise ValueError(f"expected 0 < first <= cap, got first={self.first}, cap={self.cap}")
        if self.factor < 1 or not 0 <= self.jitter <= 1:
            raise ValueError(f"expected factor >= 1 and jitter from 0 to 1, got {self.factor}, {self.jitter}")
        self._next = self.first

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
