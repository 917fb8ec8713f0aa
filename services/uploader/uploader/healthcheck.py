"""The health file and `python3 -m uploader.healthcheck`: exit 0 while every loop of the uploader
keeps its schedule, 1 otherwise.

Each loop (one per uploading camera) writes by when its next cycle must have ended; the health
check reads only that file, no network. Times are time.monotonic() seconds: CLOCK_MONOTONIC is one
clock for every process on the machine, and unlike the wall clock it does not jump when a
Raspberry Pi without a real-time clock syncs NTP.
"""

import json
import logging
import math
import os
import sys
import threading
import time
from typing import Dict, Mapping, Optional, Tuple

from appliance.envparse import ConfigError
from appliance.statelog import StateLog

from .config import load

DISABLED = "disabled"
RUNNING = "running"


def write(path: str, state: str, deadlines: Mapping[str, Optional[float]]) -> None:
    """Atomically replace the health file; raises OSError.

    `deadlines`: by when each loop's next cycle must have ended; None for a loop that waits for an
    event (the printer to start a print) rather than a time.
    """
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump({"state": state, "deadlines": dict(deadlines)}, file)
    os.replace(temporary, path)


def check(path: str, now: float) -> Tuple[bool, str]:
    """(healthy, one line why) from the health file at monotonic time `now`."""
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
        state = record["state"]
        deadlines = record["deadlines"]
    except FileNotFoundError:
        return False, f"no health file at {path}: the uploader has not started"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"unreadable health file {path}: {type(error).__name__}"
    if state == DISABLED:
        return True, "uploads disabled (no camera has a Prusa Connect token); nothing to check"
    if not isinstance(deadlines, dict) or not deadlines or not all(
            deadline is None or isinstance(deadline, (int, float)) for deadline in deadlines.values()):
        return False, f"health file {path} has no deadlines"
    timed = {name: deadline for name, deadline in deadlines.items() if deadline is not None}
    late = sorted((deadline, name) for name, deadline in timed.items() if now > deadline)
    if late:
        deadline, name = late[0]
        return False, f"{name} is stuck: its cycle should have ended {now - deadline:.0f} s ago"
    if not timed:
        return True, "every loop waits for the printer to change state"
    return True, (f"{len(deadlines)} loop(s) running; the next cycle ends within "
                  f"{min(timed.values()) - now:.0f} s")


class HealthFile:
    """The loops' side: keeps each loop's deadline, rewrites the file at each beat, and logs only
    when writing starts or stops failing."""

    def __init__(self, path: str, log: logging.Logger):
        self.path = path
        self._log = log
        self._lock = threading.Lock()
        self._deadlines: Dict[str, Optional[float]] = {}
        self._failing = StateLog(False)

    def beacon(self, name: str, grace: float) -> "Beacon":
        """The beacon of one loop, named in the health check's line ("the upload loop of …")."""
        return Beacon(self, name, grace)

    def beat(self, name: str, deadline: Optional[float]) -> None:
        with self._lock:
            self._deadlines[name] = deadline
            try:
                write(self.path, RUNNING, self._deadlines)
            except OSError as error:
                if self._failing.changed(True):
                    self._log.error("cannot write the health file %s: %s; the health check will report the "
                                    "uploader unhealthy", self.path, error.strerror or type(error).__name__)
                return
            if self._failing.changed(False):
                self._log.info("the health file %s is written again", self.path)


class Beacon:
    """One loop's deadlines, in the shared health file."""

    def __init__(self, health: HealthFile, name: str, grace: float):
        self._health = health
        self.name = name
        self.grace = grace

    def beat(self, due: float) -> None:
        """The next cycle is due at `due` (infinity: when an event comes); it must have ended by `due + grace`."""
        self._health.beat(self.name, None if math.isinf(due) else due + self.grace)


def main(environ: Mapping[str, str]) -> int:
    try:
        config = load(environ)
    except ConfigError as error:
        print(f"unhealthy: {error}")
        return 1
    healthy, why = check(config.health_file, time.monotonic())
    print(("healthy: " if healthy else "unhealthy: ") + why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(os.environ))
