"""The other services' state for /status.json: the uploader's GET /state over TCP, the gate's GET /gate/status
over its unix socket.

Each source is fetched at most once a second, by one greenlet at a time (concurrent readers wait
for that fetch), and every fetch ends within its timeout whatever the other side does, so a hung
uploader costs a status request a second (a hung gate three) and never stalls the worker.
"""

import http.client
import json
import math
import time
from typing import Callable, Optional, Tuple

import gevent
from gevent import socket
from gevent.lock import Semaphore

from appliance.unixhttp import UnixHTTPConnection

from .statusreport import Fetched

MAX_BODY = 256 * 1024
UPLOADER_TIMEOUT = 1.0  # seconds; the uploader answers from memory
GATE_TIMEOUT = 3.0  # the gate asks Moonraker for each status, and gives it 2 s


class Cached:
    """fetch()'s last answer, refreshed when older than `ttl` s; at most one fetch in flight."""

    def __init__(self, fetch: Callable[[], Fetched], ttl: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._lock = Semaphore()
        self._value: Optional[Fetched] = None
        self._at = -math.inf

    def get(self) -> Fetched:
        if self._clock() - self._at < self._ttl:
            return self._value
        with self._lock:  # whoever waited here gets the answer the fetch in flight just stored
            if self._clock() - self._at >= self._ttl:
                self._value = self._fetch()
                self._at = self._clock()
            return self._value


def fetch_json(name: str, where: str, connection: Callable[[], http.client.HTTPConnection], path: str,
               timeout: float) -> Fetched:
    """GET `path` as JSON; on any failure None and one line naming `name`, `where` and the cause."""
    conn = connection()
    try:
        with gevent.Timeout(timeout, False):
            conn.request("GET", path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read(MAX_BODY + 1)
            if response.status != 200:
                return Fetched(None, f"{name} at {where} answered HTTP {response.status}")
            if len(body) > MAX_BODY:
                return Fetched(None, f"{name} at {where} sent more than {MAX_BODY} bytes")
            try:
                return Fetched(json.loads(body.decode("utf-8")))
            except (UnicodeDecodeError, ValueError):
                return Fetched(None, f"{name} at {where} sent something that is not JSON")
        return Fetched(None, f"{name} at {where} did not answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as error:
        return Fetched(None, f"{name} unreachable at {where}: {_describe(error)}")
    finally:
        conn.close()


class StatusSources:
    """The uploader's GET /state at host:port and the gate's GET /gate/status at its unix socket, read side by side."""

    def __init__(self, uploader_host: str, uploader_port: int, gate_socket: str):
        uploader = lambda: http.client.HTTPConnection(uploader_host, uploader_port, timeout=UPLOADER_TIMEOUT)  # noqa: E731
        gate = lambda: UnixHTTPConnection(gate_socket, GATE_TIMEOUT)  # noqa: E731
        self._uploader = Cached(lambda: fetch_json("the uploader", f"{uploader_host}:{uploader_port}", uploader,
                                                   "/state", UPLOADER_TIMEOUT))
        self._gate = Cached(lambda: fetch_json("the gate", gate_socket, gate, "/gate/status", GATE_TIMEOUT))

    def read(self) -> Tuple[Fetched, Fetched]:
        """(the uploader's state, the gate's status), each at most a second old."""
        uploader, gate = gevent.spawn(self._uploader.get), gevent.spawn(self._gate.get)
        gevent.joinall((uploader, gate))
        # A fetch that raised (a bug: gevent has logged its traceback) leaves no value.
        return tuple(job.value or Fetched(None, "could not be read: see docker compose logs http")
                     for job in (uploader, gate))


def _describe(error: Exception) -> str:
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return "cannot resolve the host name (is it running?)"
    if isinstance(error, FileNotFoundError):
        return "no socket there (is it running?)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return type(error).__name__
