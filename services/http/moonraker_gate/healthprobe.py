"""Is the gate answering? Every PROBE_INTERVAL the gate asks itself GET /gate/alive on its own unix
socket, as nginx would ask for anything (the gate answers it alone: Moonraker sees nothing); each 200
moves the health file's deadline on (appliance.deadlinefile), which Docker's healthcheck
(`/app/check-deadline`, plain sh) reads. A gate whose socket or event loop stops answering misses its
deadline two probes later."""

import logging
import time
from typing import Optional

from gevent import socket

from appliance import deadlinefile
from appliance.statelog import StateLog

from .gate import ALIVE_PATH

PROBE_INTERVAL = 30.0  # seconds between two probes
PROBE_TIMEOUT = 5.0  # seconds for the gate to answer its own probe
REQUEST = f"GET {ALIVE_PATH} HTTP/1.0\r\nHost: healthprobe\r\n\r\n".encode()


def probe(path: str, timeout: float = PROBE_TIMEOUT) -> Optional[str]:
    """None when the gate at unix socket `path` answers /gate/alive with 200, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(REQUEST)
            status = sock.recv(12)
    except OSError as error:
        return f"its socket {path} does not answer: {error.strerror or type(error).__name__}"
    if status != b"HTTP/1.1 200":
        return f"its socket {path} answered {status[9:12].decode('ascii', 'replace') or 'nothing'}"
    return None


class HealthProbe:
    def __init__(self, socket_path: str, health_file: str, log: logging.Logger, interval: float = PROBE_INTERVAL):
        self.socket_path = socket_path
        self.interval = interval
        self._file = deadlinefile.DeadlineFile(health_file, log, "the gate")
        self._log = log
        self._trouble = StateLog(None)

    def check(self) -> None:
        trouble = probe(self.socket_path)
        if self._trouble.changed(trouble):
            if trouble is None:
                self._log.info("health probe: the gate answers on %s again", self.socket_path)
            else:
                self._log.error("health probe: %s; Docker will report the gate unhealthy", trouble)
        if trouble is None:
            self._file.write(time.monotonic() + 2 * self.interval + PROBE_TIMEOUT,
                             f"the gate answering on {self.socket_path}")
