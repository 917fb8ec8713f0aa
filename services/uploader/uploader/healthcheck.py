"""The health file and `python3 -m uploader.healthcheck`: exit 0 while the upload loop keeps its
schedule, 1 otherwise.

The loop writes by when its next cycle must have ended; the health check reads only that file, no
network. Times are time.monotonic() seconds: CLOCK_MONOTONIC is one clock for every process on the
machine, and unlike the wall clock it does not jump when a Raspberry Pi without a real-time clock
syncs NTP.
"""

import json
import logging
import os
import sys
import time
from typing import Mapping, Optional, Tuple

from appliance.envparse import ConfigError
from appliance.statelog import StateLog

from .config import load

DISABLED = "disabled"
RUNNING = "running"


def write(path: str, state: str, deadline: Optional[float]) -> None:
    """Atomically replace the health file; raises OSError."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump({"state": state, "deadline": deadline}, file)
    os.replace(temporary, path)


def check(path: str, now: float) -> Tuple[bool, str]:
    """(healthy, one line why) from the health file at monotonic time `now`."""
    try:
        with open(path, encoding="utf-8") as file:
            record = json.load(file)
        state = record["state"]
        deadline = record["deadline"]
    except FileNotFoundError:
        return False, f"no health file at {path}: the uploader has not started"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"unreadable health file {path}: {type(error).__name__}"
    if state == DISABLED:
        return True, "uploads disabled (no PRUSA_CONNECT_TOKEN); nothing to check"
    if not isinstance(deadline, (int, float)):
        return False, f"health file {path} has no deadline"
    if now > deadline:
        return False, f"the upload loop is stuck: its cycle should have ended {now - deadline:.0f} s ago"
    return True, f"the upload loop is running; its next cycle ends within {deadline - now:.0f} s"


class Beacon:
    """The loop's side: records each deadline, and logs only when writing starts or stops failing."""

    def __init__(self, path: str, grace: float, log: logging.Logger):
        self.path = path
        self.grace = grace
        self._log = log
        self._failing = StateLog(False)

    def beat(self, due: float) -> None:
        """The next cycle is due at `due`; it must have ended by `due + grace`."""
        try:
            write(self.path, RUNNING, due + self.grace)
        except OSError as error:
            if self._failing.changed(True):
                self._log.error("cannot write the health file %s: %s; the health check will report the "
                                "uploader unhealthy", self.path, error.strerror or type(error).__name__)
            return
        if self._failing.changed(False):
            self._log.info("the health file %s is written again", self.path)


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
