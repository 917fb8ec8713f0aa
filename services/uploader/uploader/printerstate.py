"""The printer's state for UPLOAD_WHEN=printing: read every 2 s from Moonraker (through the read-only
gate's unix socket, never with write access) or from a Prusa printer's PrusaLink, each change logged
once and handed to every camera's loop.

A source that cannot be read, or answers something that is not a printer state, is UNKNOWN: the
cameras then upload as with UPLOAD_WHEN=always (fail open), so that pictures are never lost
because the printer's API is down.
"""

import http.client
import json
import logging
import os
import socket
import threading
import time
import traceback
from typing import Callable, Hashable, NamedTuple, Optional, Sequence
from urllib.parse import urlsplit

from appliance.statelog import StateLog
from appliance.unixhttp import UnixHTTPConnection

from .schedule import Printer

POLL = 2.0  # seconds between readings: a change is followed within POLL + TIMEOUT = 5 s
TIMEOUT = 3.0
MAX_BODY = 64 * 1024
MOONRAKER_QUERY = "/printer/objects/query?print_stats"
MOONRAKER_STATES = ("standby", "printing", "paused", "complete", "cancelled", "error")
MOONRAKER_PRINTING = ("printing", "paused")
PRUSALINK_STATUS = "/api/v1/status"
PRUSALINK_STATES = ("IDLE", "BUSY", "PRINTING", "PAUSED", "FINISHED", "STOPPED", "ERROR", "ATTENTION", "READY")
PRUSALINK_PRINTING = ("PRINTING", "PAUSED", "ATTENTION", "BUSY")


class Reading(NamedTuple):
    printer: Printer
    text: str  # one secret-free line: "Moonraker print_stats.state 'printing'", or the cause when unknown
    kind: Hashable  # what makes two readings the same, for logging only changes


def unknown(kind: Hashable, cause: str) -> Reading:
    return Reading(Printer.UNKNOWN, cause, (Printer.UNKNOWN, kind))


def _known(state: str, printing: Sequence[str], source: str) -> Reading:
    printer = Printer.PRINTING if state in printing else Printer.IDLE
    return Reading(printer, f"{source} {state!r}", (printer, state))


def _document(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _field(document, *path):
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _gist(body: bytes) -> str:
    """A short, printable piece of an error answer: its JSON message, or its first line."""
    message = _field(_document(body), "error", "message")
    text = message if isinstance(message, str) else body.decode("utf-8", "replace").split("\n", 1)[0]
    return "".join(ch for ch in text if ch.isprintable())[:120]


def moonraker_reading(status: int, body: bytes) -> Reading:
    """The printer's state from Moonraker's answer to GET /printer/objects/query?print_stats."""
    if status != 200:
        gist = _gist(body)
        return unknown(("http", status), f"Moonraker answered HTTP {status}" + (f": {gist}" if gist else ""))
    state = _field(_document(body), "result", "status", "print_stats", "state")
    if not isinstance(state, str):
        return unknown("no state", "Moonraker's answer has no print_stats.state")
    if state not in MOONRAKER_STATES:
        return unknown(("state", state[:40]), f"Moonraker reported an unknown print_stats.state {state[:40]!r}")
    return _known(state, MOONRAKER_PRINTING, "Moonraker print_stats.state")


def prusalink_reading(status: int, body: bytes, credentials_fix: str) -> Reading:
    """The printer's state from PrusaLink's answer to GET /api/v1/status."""
    if status in (401, 403):
        return unknown(("credentials", status), f"PrusaLink refused the credentials (HTTP {status}): {credentials_fix}")
    if status != 200:
        return unknown(("http", status), f"PrusaLink answered HTTP {status}")
    state = _field(_document(body), "printer", "state")
    if not isinstance(state, str):
        return unknown("no state", "PrusaLink's answer has no printer.state")
    if state not in PRUSALINK_STATES:
        return unknown(("state", state[:40]), f"PrusaLink reported an unknown printer.state {state[:40]!r}")
    return _known(state, PRUSALINK_PRINTING, "PrusaLink printer.state")


def gate_connection(address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to the gate at `unix:/path` (the appliance), or to `http://host:port` (a Moonraker
    stand-in in the tests)."""
    if address.startswith("unix:"):
        return UnixHTTPConnection(address[len("unix:"):], timeout)
    parts = urlsplit(address)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


class MoonrakerSource:
    """print_stats.state through the gate: one GET on a fresh connection per reading."""

    def __init__(self, address: str, timeout: float = TIMEOUT):
        self.address = address
        self._timeout = timeout
        self._where = f"the Moonraker gate at {address}"

    def read(self) -> Reading:
        connection = gate_connection(self.address, self._timeout)
        try:
            connection.request("GET", MOONRAKER_QUERY, headers={"Accept": "application/json"})
            response = connection.getresponse()
            return moonraker_reading(response.status, response.read(MAX_BODY))
        except FileNotFoundError:
            return unknown("absent", f"{self._where} does not exist: is moonraker-gate running?")
        except ConnectionRefusedError:
            return unknown("refused", f"{self._where} refused the connection: is moonraker-gate running?")
        except (socket.timeout, TimeoutError):
            return unknown("timeout", f"no answer from {self._where} within {self._timeout:g} s")
        except (OSError, http.client.HTTPException) as error:
            return unknown(("failed", type(error).__name__),
                           f"{self._where} failed ({type(error).__name__})")
        finally:
            connection.close()

    def close(self) -> None:
        """Nothing stays open between readings."""


class PrusaLinkSource:
    """printer.state from PrusaLink, with HTTP digest (user and password) or an X-Api-Key."""

    def __init__(self, url: str, user: str, password: str, api_key: str, timeout: float = TIMEOUT):
        from .digestauth import DigestAuth
        from .transfer import Transfer
        self.url = url + PRUSALINK_STATUS
        self._headers = {"X-Api-Key": api_key} if api_key else {}
        self._transfer = Transfer(timeout, timeout, auth=DigestAuth(user, password)
                                  if password else None)
        self._fix = ("set PRUSALINK_API_KEY to the API key the printer shows (Settings > Network)" if api_key else
                     "set PRUSALINK_USER and PRUSALINK_PASSWORD to the user and password the printer shows "
                     "for PrusaLink (Settings > Network)")

    def read(self) -> Reading:
        from .transfer import Failure
        try:
            answer = self._transfer.exchange("GET", self.url, headers=self._headers, limit=MAX_BODY)
        except Failure as failure:
            return unknown(("unreachable", str(failure)), f"PrusaLink unreachable: {failure}")
        return prusalink_reading(answer.status, answer.body, self._fix)

    def close(self) -> None:
        """Abort a reading in progress (it raises transfer.Cancelled) and refuse new ones."""
        self._transfer.close()


class PrinterFollower:
    """Reads the state every POLL seconds; logs each change once; tells every listener when the
    printer's state changes. Survives any error: a bug is logged with its traceback once and counts
    as an unknown state (fail open)."""

    def __init__(self, source, listeners: Sequence[Callable[[Printer], None]], log: logging.Logger, *,
                 active: str, idle: str, beacon, clock: Callable[[], float] = time.monotonic, poll: float = POLL):
        """`active`: what the cameras do while printing or unknown ("uploading every 10 s"); `idle`:
        while idle ("no uploads until a print starts")."""
        self._source = source
        self._listeners = listeners
        self._log = log
        self._active = active
        self._idle = idle
        self._beacon = beacon
        self._clock = clock
        self._poll = poll
        self._stop = threading.Event()
        self._logged = StateLog()
        self.reading: Optional[Reading] = None
        self.since: Optional[float] = None  # when the printer entered its current state (clock seconds)

    def run(self) -> None:
        from .transfer import Cancelled
        while True:
            self._beacon.beat(self._clock() + self._poll)
            try:
                self.step()
            except Cancelled:
                return
            if self._stop.wait(self._poll):
                return

    def stop(self) -> None:
        self._stop.set()

    def close_source(self) -> None:
        """Abort a reading in progress, on shutdown."""
        self._source.close()

    def step(self) -> None:
        """One reading, logged and passed on when it differs from the last."""
        from .transfer import Cancelled
        try:
            self.seen(self._source.read())
        except Cancelled:
            raise
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            kind = ("internal", type(error).__name__, where.filename, where.lineno)
            self.seen(unknown(kind, f"internal error {type(error).__name__} at {os.path.basename(where.filename)}:"
                                    f"{where.lineno}: {error}"), error)

    def seen(self, reading: Reading, error: Optional[Exception] = None) -> None:
        before = self.reading.printer if self.reading else None
        self.reading = reading
        if reading.printer is not before:
            self.since = self._clock()
        if self._logged.changed(reading.kind):
            self._log_line(reading, before, error)
        if reading.printer is not before:
            for listener in self._listeners:
                listener(reading.printer)

    def _log_line(self, reading: Reading, before: Optional[Printer], error: Optional[Exception]) -> None:
        if reading.printer is Printer.UNKNOWN:
            self._log.log(logging.ERROR if error else logging.WARNING,
                          "printer state unknown (%s): %s until it is back", reading.text, self._active,
                          exc_info=error)
        elif reading.printer is Printer.PRINTING:
            self._log.info("printer state: printing (%s): %s", reading.text, self._active)
        elif before in (Printer.PRINTING, Printer.UNKNOWN):
            self._log.info("printer state: idle (%s): one last picture, then %s", reading.text, self._idle)
        else:
            self._log.info("printer state: idle (%s): %s", reading.text, self._idle)
