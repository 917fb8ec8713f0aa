"""The one connection to a camera's feed: read it, cut it into frames, publish them; reconnect when it drops.

The reader cannot die: a socket error ends one connection, and anything else (a bug in the splitter,
an unexpected value) is logged with its traceback, backed off and the reader started over.
"""

import logging
import time
from typing import Optional

import gevent
from gevent import socket

from appliance.backoff import Backoff
from appliance.statelog import RepeatedFailures
from appliance.throttle import Throttle
from jpegframes.markers import dimensions
from jpegframes.splitter import FrameSplitter

from .framestore import FrameStore

READ_SIZE = 256 * 1024


class FeedReader:
    """A single greenlet that owns the feed connection; there is never a second one.

    `splitter` cuts the bytes into frames (a FrameSplitter, or anything with its feed/reset/dropped);
    `backoff` spaces the connection attempts, `crash_backoff` the restarts after an unexpected error.
    """

    def __init__(self, host: str, port: int, timeout: float, store: FrameStore, splitter: FrameSplitter,
                 log: logging.Logger, backoff: Optional[Backoff] = None, crash_backoff: Optional[Backoff] = None):
        self.address = (host, port)
        self.timeout = timeout
        self.connected = False
        self.reconnects = 0  # connections made after the first one
        self.restarts = 0  # times the reader started over after an unexpected error
        self._store = store
        self._splitter = splitter
        self._log = log
        self._backoff = backoff or Backoff(first=0.1, cap=2.0)
        self._crash_backoff = crash_backoff or Backoff(first=1.0, cap=30.0)
        self._failures = RepeatedFailures()
        self._crashes = Throttle(60.0)
        self._connections = 0
        self._greenlet: Optional[gevent.Greenlet] = None

    @property
    def frames_dropped(self) -> int:
        return self._splitter.dropped

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def _run(self) -> None:
        while True:
            try:
                self._connect_and_read()
            except Exception as error:
                self.restarts += 1
                self._crashed(error)
                gevent.sleep(self._crash_backoff.next())
                continue
            self._crash_backoff.reset()
            gevent.sleep(self._backoff.next())

    def _crashed(self, error: Exception) -> None:
        """The first of a kind with its traceback, its repeats as one line at most once a minute."""
        kind = f"{type(error).__name__}: {error}"[:200]
        held = self._crashes.admit(kind)
        if held == 0:
            self._log.exception("feed reader for %s:%d failed unexpectedly; starting it over", *self.address)
        elif held is not None:
            self._log.error("feed reader for %s:%d failed again (%s), %d more times in the last minute; "
                            "starting it over", *self.address, kind, held + 1)

    def _connect_and_read(self) -> None:
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
        except OSError as error:
            self._failed(_describe(error))
            return
        self._connections += 1
        if self._connections > 1:
            self.reconnects += 1
        self.connected = True
        started = time.monotonic()
        try:
            frames, reason = self._read(sock)
        finally:
            sock.close()
            self.connected = False
            self._splitter.reset()
        if frames:
            self._log.info("feed disconnected from %s:%d after %d frames in %.1f s: %s",
                           *self.address, frames, time.monotonic() - started, reason)
        else:
            self._failed(f"connected, but no complete frame came: {reason}")

    def _read(self, sock) -> tuple:
        """Publish frames until the connection ends; (frames read, why it ended)."""
        frames = 0
        last_frame = time.monotonic()
        try:
            while True:
                chunk = sock.recv(READ_SIZE)
                if not chunk:
                    return frames, "the feed closed the connection"
                for data in self._splitter.feed(chunk):
                    self._store.publish(data)
                    if not frames:
                        self._connected(data)
                    frames += 1
                    last_frame = time.monotonic()
                if time.monotonic() - last_frame > self.timeout:
                    return frames, f"no complete frame for {self.timeout:g} s"
        except socket.timeout:
            return frames, f"nothing received for {self.timeout:g} s"
        except OSError as error:
            return frames, _describe(error)

    def _connected(self, first: bytes) -> None:
        self._backoff.reset()
        failures = self._failures.succeeded()
        size = dimensions(first)
        self._log.info("feed connected to %s:%d: first frame %s, %d bytes%s", *self.address,
                       "%dx%d" % size if size else "of unknown size", len(first),
                       f", after {failures} failed attempts" if failures else "")

    def _failed(self, reason: str) -> None:
        count = self._failures.failed(reason)
        if count == 1:
            self._log.warning("feed unavailable at %s:%d: %s; retrying", *self.address, reason)
        elif count is not None:
            self._log.warning("feed still unavailable at %s:%d after %d attempts: %s", *self.address, count, reason)


def _describe(error: OSError) -> str:
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host name ({error.strerror})"
    return error.strerror or str(error)
