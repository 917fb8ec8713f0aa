"""How long the feed reader waits before its next connection attempt."""


class Backoff:
    """`first` seconds, doubling on each failure up to `cap`; back to `first` after reset()."""

    def __init__(self, first: float = 0.1, cap: float = 2.0):
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first
