"""A health file that Docker's healthcheck reads without starting Python: one line, `DEADLINE WHAT`.

DEADLINE is by when the service must have written the file again, in whole seconds of the clock that
/proc/uptime shows (CLOCK_BOOTTIME: one clock for every process on the machine, which unlike the wall
clock does not jump when a Raspberry Pi without a real-time clock syncs NTP), or `none` while nothing
is due (every loop waits for an event). WHAT says what keeps the deadline, for the healthcheck's line.
`/app/check-deadline FILE` (services/common/check-deadline, plain sh) compares the two.

Why no Python in healthchecks: every run of python3 reads the interpreter's modules again, which moves
about 12 MiB of the page cache the stack's containers share onto the active list, where `docker
stats` counts it (bench/analysis.md).
"""

import logging
import math
import os
import time
from typing import Optional

from .statelog import StateLog


def boot_clock() -> float:
    """Seconds since boot as /proc/uptime counts them."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def write(path: str, deadline: Optional[float], what: str) -> None:
    """Atomically replace the file; `deadline` in time.monotonic() seconds, None when nothing is due.
    Raises OSError."""
    due = "none" if deadline is None else str(math.ceil(deadline - time.monotonic() + boot_clock()))
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(f"{due} {' '.join(what.split())}\n")
    os.replace(temporary, path)


class DeadlineFile:
    """The file a service keeps: write() it, and a line when writing starts failing (so the healthcheck
    will say unhealthy) and one when it works again."""

    def __init__(self, path: str, log: logging.Logger, service: str):
        self.path = path
        self._log = log
        self._service = service
        self._failing = StateLog(False)

    def write(self, deadline: Optional[float], what: str) -> None:
        try:
            write(self.path, deadline, what)
        except OSError as error:
            if self._failing.changed(True):
                self._log.error("cannot write the health file %s: %s; the health check will report %s unhealthy",
                                self.path, error.strerror or type(error).__name__, self._service)
            return
        if self._failing.changed(False):
            self._log.info("the health file %s is written again", self.path)
