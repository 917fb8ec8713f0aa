"""Runs one camera's process and starts it again after every exit, until told to stop.

Each camera has its own supervisor, so one camera failing, unplugged or killed never disturbs
another. rpicam-vid --listen serves one client and exits when it leaves, so an exit is routine: it
is restarted at once. A process that keeps dying young (no camera, unplugged, a bad argument) is
restarted with a growing pause (appliance.backoff), and the camera comes back by itself once it
is there again. One that refuses its camera's mode (exit 78) is tried again every
SETTING_RETRY_S. The process's output is logged line by line after the camera's label, so the
lines of two cameras never mix; a line or an exit that repeats (a camera that keeps failing the
same way) is logged at most once a minute, with how many were held back.
"""

import logging
import subprocess
import threading
import time
from typing import Dict, List

from appliance.backoff import Backoff
from appliance.envparse import EXIT_CONFIG
from appliance.statelog import RepeatedFailures
from appliance.throttle import Throttle

log = logging.getLogger("feed")

QUICK_RESTART_S = 0.2
MAX_RESTART_S = 10.0
HEALTHY_RUN_S = 5.0
SETTING_RETRY_S = 60.0
STOP_GRACE_S = 1.5


class Restarts:
    """How long to wait before starting the process again, from how its last run ended."""

    def __init__(self):
        self._backoff = Backoff(QUICK_RESTART_S, MAX_RESTART_S)

    @staticmethod
    def routine(status: int, ran_for: float) -> bool:
        """A clean exit (its client left) or one after a healthy run: nothing to back off from."""
        return status == 0 or ran_for >= HEALTHY_RUN_S

    def pause(self, status: int, ran_for: float) -> float:
        if status == EXIT_CONFIG:
            return SETTING_RETRY_S
        if self.routine(status, ran_for):
            self._backoff.reset()
            return QUICK_RESTART_S
        return self._backoff.next()


class Supervisor:
    def __init__(self, label: str, argv: List[str], env: Dict[str, str]):
        self.label = label
        self._argv = argv
        self._env = env
        self._stopping = threading.Event()
        self._child = None
        self._restarts = Restarts()
        self._short_runs = RepeatedFailures()  # exits of a process that died young, by status
        self._repeats = Throttle()  # the process's output lines, by text, across its runs

    def stop(self) -> None:
        """Ask the camera process to end; kill it if it has not within STOP_GRACE_S."""
        self._stopping.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            killer = threading.Timer(STOP_GRACE_S, child.kill)
            killer.daemon = True
            killer.start()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                pause = self._run_once()
            except Exception:  # a bug here must not end this camera for good: log it, pause, go on
                log.exception("%s: supervising the camera process failed; trying again in %.0f s",
                              self.label, MAX_RESTART_S)
                pause = MAX_RESTART_S
            self._stopping.wait(pause)
        log.info("%s: stopped", self.label)

    def _run_once(self) -> float:
        """Run the process once, until it exits; the pause before the next start."""
        started = time.monotonic()
        try:
            self._child = subprocess.Popen(self._argv, env=self._env, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as error:
            log.error("%s: cannot start %s: %s", self.label, self._argv[0], error)
            return MAX_RESTART_S
        if self._stopping.is_set():
            self.stop()
        # A thread of its own: a grandchild (v4l2-ctl) may hold the output open a moment longer.
        threading.Thread(target=self._log_output, args=(self._child.stdout,), daemon=True).start()
        status = self._child.wait()
        if self._stopping.is_set():
            return 0
        ran_for = time.monotonic() - started
        pause = self._restarts.pause(status, ran_for)
        if self._restarts.routine(status, ran_for):
            self._short_runs.succeeded()
            in_a_row = 0
        else:
            in_a_row = self._short_runs.failed(status)
            if in_a_row is None:
                return pause
        log.info("%s: camera process exited with status %s after %.1f s; restarting in %.1f s%s", self.label,
                 status, ran_for, pause, f" ({in_a_row} failed runs in a row)" if in_a_row > 1 else "")
        return pause

    def _log_output(self, output) -> None:
        """Log the lines the process writes, until its output closes; a line said before (a camera
        that keeps failing the same way) at most once a minute."""
        with output:
            for raw in output:
                line = raw.decode(errors="replace").rstrip()
                held = self._repeats.admit(line)
                if held is not None:
                    log.info("%s: %s%s", self.label, line, f" ({held} repeats not shown)" if held else "")
