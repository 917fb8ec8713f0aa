"""Reading what the services' Docker healthchecks read: deadline files (appliance.deadlinefile) and
the two healthcheck scripts in services/common, run as Docker runs them."""

import subprocess
import time
from pathlib import Path

from appliance import deadlinefile

COMMON = Path(__file__).resolve().parent.parent / "services" / "common"


def read_deadline(path):
    """(deadline in time.monotonic() seconds, to the second, or None; what) from a deadline file."""
    with open(path, encoding="utf-8") as file:
        due, what = file.read().rstrip("\n").split(" ", 1)
    if due == "none":
        return None, what
    return int(due) - deadlinefile.boot_clock() + time.monotonic(), what


def run_check(script, *args, timeout=10):
    """(exit status, output) of services/common/<script> with `args`."""
    done = subprocess.run([str(COMMON / script), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr
