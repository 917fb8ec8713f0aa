"""When a camera's next cycle runs: a pure policy over times the caller passes in (monotonic seconds).

Fixed-rate at the interval; exponential backoff with jitter from the interval up to 5 minutes
while Connect is unreachable or overloaded; every 5 minutes while it refuses the credentials;
and never an upload started less than 10 s after the previous one finished, whatever the mix:
Connect measures its one-image-per-10-s limit between arrivals, so a floor kept between starts
lets network jitter bring two arrivals closer than 10 s.

With UPLOAD_WHEN=printing the printer's state sets the pace: nothing until its first reading; the
interval while it prints, or while its state is unknown (fail open); when a print starts, an
upload at once; when uploads at the interval stop (the print ended), one last picture at once,
then the idle interval (none when 0). A printer that changes state while Connect is failing
keeps Connect's retry time, and the 10 s floor holds through any flapping.
"""

import enum
import math
import random as _random
from typing import Callable, Optional

from appliance.backoff import Backoff

FLOOR = 10.0
BACKOFF_CAP = 300.0
SLOW_RETRY = 300.0
NEVER = math.inf


class Pace(enum.Enum):
    NORMAL = "normal"  # uploaded, or Connect answered: back to the interval
    SKIP = "skip"  # nothing to upload this cycle: try again at the next tick
    BACKOFF = "backoff"  # Connect unreachable or overloaded
    SLOW = "slow"  # Connect refuses the credentials or the address: retry every 5 minutes


class Printer(enum.Enum):
    PRINTING = "printing"  # Moonraker printing or paused; PrusaLink PRINTING, PAUSED, ATTENTION, BUSY
    IDLE = "idle"  # any other state the source reports
    UNKNOWN = "unknown"  # the source cannot be read or answers nonsense: upload as if always


ACTIVE = (Printer.PRINTING, Printer.UNKNOWN)  # the states that upload at the interval


class Schedule:
    def __init__(self, interval: float, start: float, *, idle_interval: Optional[float] = None,
                 floor: float = FLOOR, backoff_cap: float = BACKOFF_CAP, slow_retry: float = SLOW_RETRY,
                 random: Callable[[], float] = _random.random):
        """`idle_interval` None: UPLOAD_WHEN=always, the printer never matters. A number:
        UPLOAD_WHEN=printing, with that many seconds between uploads while idle (0: none)."""
        self.interval = max(interval, floor)
        self.follows_printer = idle_interval is not None
        self.idle_interval = max(idle_interval, floor) if idle_interval else 0.0
        self.floor = floor
        self.slow_retry = slow_retry
        self.printer: Optional[Printer] = None  # None until the first reading
        self.last_picture = False  # the print ended and its last picture is not uploaded yet
        self.due = NEVER if self.follows_printer else start
        self._backoff = Backoff(self.interval, max(backoff_cap, self.interval), jitter=0.5, random=random)
        self._slow = False
        self._last_upload_end: Optional[float] = None

    @property
    def failures(self) -> int:
        """Cycles in a row that found Connect unreachable or overloaded."""
        return self._backoff.failures

    @property
    def cadence(self) -> float:
        """Seconds between uploads now; NEVER while nothing is due until the printer changes."""
        if not self.follows_printer or self.last_picture or self.printer in ACTIVE:
            return self.interval
        if self.printer is Printer.IDLE and self.idle_interval:
            return self.idle_interval
        return NEVER

    def why(self) -> str:
        """Why the camera uploads now, or not, in a few words (for the state)."""
        every = f"uploading every {self.interval:g} s"
        if not self.follows_printer:
            return every
        if self.printer is None:
            return "waiting for the printer's state"
        if self.printer is Printer.PRINTING:
            return f"printing: {every}"
        if self.printer is Printer.UNKNOWN:
            return f"printer state unknown: {every} until it is back"
        if self.last_picture:
            return "the print ended: one last picture"
        if self.idle_interval:
            return f"idle: uploading every {self.idle_interval:g} s"
        return "idle: no uploads until a print starts"

    def next(self, pace: Pace, *, started: float, now: float, uploaded: bool) -> float:
        """The due time of the next cycle, after one that `started` and ended `now`."""
        if uploaded:
            self._last_upload_end = now
        if pace is Pace.BACKOFF:
            self._slow = False
            due = now + self._backoff.next()
        elif pace is Pace.SLOW:
            self._slow = True
            self._backoff.reset()
            due = now + self.slow_retry
        else:
            if pace is Pace.NORMAL:
                self._slow = False
                self._backoff.reset()
                if uploaded:
                    self.last_picture = False
            cadence = self.cadence
            due = self.due + cadence
            if due < now:  # the cycle overran: skip the missed ticks instead of bursting
                due += math.ceil((now - due) / cadence) * cadence
        self.due = self._floored(due)
        return self.due

    def printer_changed(self, printer: Printer, now: float) -> float:
        """The printer is now in `printer`'s state; the due time of the next cycle."""
        before = self.printer
        self.printer = printer
        if not self.follows_printer or printer is before or (printer in ACTIVE and before in ACTIVE):
            return self.due
        if printer in ACTIVE:  # a print started, or the state was lost: upload at once
            self.last_picture = False
            return self._soon(now)
        if before in ACTIVE:  # uploads at the interval stop: one last picture at once
            self.last_picture = True
            return self._soon(now)
        # The first reading, and the printer is idle: at once if there are idle uploads at all.
        return self._soon(now) if self.idle_interval else self.due

    def _soon(self, now: float) -> float:
        if self._backoff.failures or self._slow:  # Connect is failing: keep its retry time
            return self.due
        self.due = self._floored(min(self.due, now))
        return self.due

    def _floored(self, due: float) -> float:
        if self._last_upload_end is None:
            return due
        return max(due, self._last_upload_end + self.floor)
