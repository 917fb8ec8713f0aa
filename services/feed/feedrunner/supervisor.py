"""Runs the camera process and starts it again after every exit, until told to stop.

rpicam-vid --listen serves one client and exits when it leaves, so an exit is routine: it is
restarted at once. A process that keeps dying young (no camera, a bad argument) is restarted
with a growing pause, so the log shows the problem without a storm.
"""

import logging
import signal
import subprocess
import threading
import time
from typing import Dict, List

log = logging.getLogger("feed")

QUICK_RESTART_S = 0.2
MAX_RESTART_S = 10.0
HEALTHY_RUN_S = 5.0
STOP_GRACE_S = 1.5


def next_pause(previous_pause: float, ran_for: float) -> float:
    """Pause before the next start: short after a healthy run, doubling after short-lived ones."""
    if ran_for >= HEALTHY_RUN_S:
        return QUICK_RESTART_S
    return min(MAX_RESTART_S, max(QUICK_RESTART_S, previous_pause * 2))


class Supervisor:
    def __init__(self, argv: List[str], env: Dict[str, str]):
        self._argv = argv
        self._env = env
        self._stopping = threading.Event()
        self._child = None

    def stop(self, *_signal_args) -> None:
        """Ask the camera process to end; kill it if it has not within STOP_GRACE_S."""
        self._stopping.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            killer = threading.Timer(STOP_GRACE_S, child.kill)
            killer.daemon = True
            killer.start()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        pause = QUICK_RESTART_S
        while not self._stopping.is_set():
            started = time.monotonic()
            self._child = subprocess.Popen(self._argv, env=self._env)
            if self._stopping.is_set():
                self.stop()
            status = self._child.wait()
            if self._stopping.is_set():
                break
            ran_for = time.monotonic() - started
            pause = next_pause(pause, ran_for)
            log.info("camera process exited with status %s after %.1f s; restarting in %.1f s",
                     status, ran_for, pause)
            self._stopping.wait(pause)
        log.info("stopped")
        return 0
