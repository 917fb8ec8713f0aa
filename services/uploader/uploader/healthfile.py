"""The uploader's health file, which Docker's healthcheck (`/app/check-deadline`, plain sh) reads:
healthy while every loop of the uploader keeps its schedule.

Each loop (one per uploading camera, and the printer state reader) tells by when its next cycle must
have ended; the file (appliance.deadlinefile) holds the earliest of those deadlines and the loop that
owes it, so an unhealthy check names the stuck loop.
"""

import logging
import math
import threading
import time
from typing import Dict, Optional

from appliance import deadlinefile

DISABLED = "uploads disabled (no camera has a Prusa Connect token); nothing to check"
WAITING = "every loop waits for the printer to change state"
START_GRACE = 60.0  # seconds the loops have to make their first beat


def write_disabled(path: str) -> None:
    """Raises OSError."""
    deadlinefile.write(path, None, DISABLED)


def write_starting(path: str) -> None:
    """Raises OSError."""
    deadlinefile.write(path, time.monotonic() + START_GRACE, "the upload loops must have started")


class HealthFile:
    """The loops' side: keeps each loop's deadline and rewrites the file at each beat."""

    def __init__(self, path: str, log: logging.Logger):
        self._file = deadlinefile.DeadlineFile(path, log, "the uploader")
        self._lock = threading.Lock()
        self._deadlines: Dict[str, Optional[float]] = {}

    def beacon(self, name: str, grace: float) -> "Beacon":
        """The beacon of one loop, named in the health check's line ("the upload loop of …")."""
        return Beacon(self, name, grace)

    def beat(self, name: str, deadline: Optional[float]) -> None:
        with self._lock:
            self._deadlines[name] = deadline
            timed = {loop: due for loop, due in self._deadlines.items() if due is not None}
            if timed:
                first = min(timed, key=timed.__getitem__)
                self._file.write(timed[first], f"{first} must have ended its cycle")
            else:
                self._file.write(None, WAITING)


class Beacon:
    """One loop's deadlines, in the shared health file."""

    def __init__(self, health: HealthFile, name: str, grace: float):
        self._health = health
        self.name = name
        self.grace = grace

    def beat(self, due: float) -> None:
        """The next cycle is due at `due` (monotonic; infinity: when an event comes); it must have
        ended by `due + grace`."""
        self._health.beat(self.name, None if math.isinf(due) else due + self.grace)
