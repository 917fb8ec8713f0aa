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

import math
import os
import time
from typing import Optional


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
