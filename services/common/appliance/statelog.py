"""Keep a steady state out of the log: a line when something changes, not one per repeat.

`StateLog` remembers one state and says when a new one differs (a line per change of cause);
`RepeatedFailures` follows a run of failures of one thing, logging each reason when first seen and
then at most once a minute, and tells how many failures a success ended. Many keyed events (a
hostile client's invented names) are `appliance.throttle.Throttle`'s job.
"""

import time
from typing import Callable, Hashable, Optional

from appliance.throttle import Throttle


class StateLog:
    """The last state seen; `changed(state)` records a new one and says whether it deserves a line."""

    def __init__(self, initial: Hashable = None):
        self.state = initial

    def changed(self, state: Hashable) -> bool:
        """True when `state` differs from the last one (log it now), False for a repeat."""
        if state == self.state:
            return False
        self.state = state
        return True


class RepeatedFailures:
    """Each reason of failure gets a line when first seen in a run, then at most one per `every` seconds."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self._clock = clock
        self._throttle = Throttle(every, clock=clock)
        self.count = 0  # failures in a row, of any reason

    def failed(self, reason: Hashable) -> Optional[int]:
        """Record one failure; the failures in a row so far when it deserves a line, else None."""
        self.count += 1
        if self._throttle.admit(reason) is None:
            return None
        return self.count

    def succeeded(self) -> int:
        """Record a success; how many failures came just before it (0: nothing to tell)."""
        count = self.count
        if count:
            self._throttle = Throttle(self.every, clock=self._clock)
            self.count = 0
        return count
