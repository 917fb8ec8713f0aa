"""Keep repeated events out of the log: which of many keyed events deserve a line."""

import time
from typing import Callable, Dict, Hashable, List, Optional

OTHERS = object()  # the shared key of events whose own key found the table full


class Throttle:
    """The first event of a key gets a line, then at most one line per `interval` seconds, each
    telling how many events of that key it held back.

    At most `keys` keys are tracked (a hostile client can invent method names without end): when the
    table is full, keys without a line for a whole interval are forgotten (with any count they held
    back), and if none is that old, new keys share one entry.
    """

    def __init__(self, interval: float = 60.0, keys: int = 64, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.keys = keys
        self._clock = clock
        self._entries: Dict[Hashable, List] = {}  # key -> [time of its last line, events held back since]

    def admit(self, key: Hashable) -> Optional[int]:
        """None when this event gets no line; otherwise log it now, with this many held back before it."""
        now = self._clock()
        if key not in self._entries and len(self._entries) >= self.keys:
            self._forget_quiet(now)
            if len(self._entries) >= self.keys:
                key = OTHERS
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = [now, 0]
            return 0
        if now - entry[0] < self.interval:
            entry[1] += 1
            return None
        held = entry[1]
        entry[0], entry[1] = now, 0
        return held

    def _forget_quiet(self, now: float) -> None:
        for key in [key for key, (logged_at, _) in self._entries.items() if now - logged_at >= self.interval]:
            del self._entries[key]
