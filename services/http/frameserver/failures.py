"""Keep a retry storm out of the log: which of many repeated failures deserve a line."""

import time
from typing import Callable, Optional

from appliance.throttle import Throttle


class RepeatedFailures:
    """Each kind of failure is logged when first seen, then at most once every `every` seconds."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self._clock = clock
        self._throttle = Throttle(every, clock=clock)
        self._count = 0  # failures in a row, of any kind

    def failed(self, reason: str) -> Optional[int]:
        """Record one failure; the failures in a row so far when it deserves a line, else None."""
        self._count += 1
        if self._throttle.admit(reason) is None:
            return None
        return self._count

    def succeeded(self) -> int:
        """Record a success; how many failures came just before it."""
        count = self._count
        self._throttle = Throttle(self.every, clock=self._clock)
        self._count = 0
        return count
