"""GET /stream.mjpg as a bare WSGI app: every client gets the newest frame whenever it is ready for one.

Each client is one greenlet running its own generator, so a slow client only ever blocks itself;
it skips the frames it was too slow for instead of queueing them.
"""

import logging
import math
import time
from typing import Optional
from urllib.parse import parse_qs

import gevent

from . import multipart
from .config import Config
from .guards import HangupWatch, SendDeadline
from .responses import GET_OR_HEAD, NO_CACHE, method_not_allowed, text, unavailable
from .store import FrameStore, PerFrame

MAX_FPS = 1000.0
NO_SIGNAL = 0  # never a frame's seq
# Chromium shows a part only once the next part's headers arrive. So a part that shows something
# new is sent again after this long if no newer frame has come: a still or stalled feed, or a new
# client, shows its picture within this, and a live feed (a frame every 33-66 ms) never needs it.
REPAINT = 0.25
HEADERS = (
    ("Content-Type", multipart.CONTENT_TYPE),
    *NO_CACHE,
    ("X-Accel-Buffering", "no"),  # tells a proxying nginx not to buffer the stream
)


def min_interval(query: str) -> float:
    """Seconds between two parts for a client asking ?fps=N (0: as fast as frames come); ValueError if bad."""
    values = parse_qs(query, keep_blank_values=True).get("fps")
    if not values:
        return 0.0
    value = values[-1]
    try:
        fps = float(value)
    except ValueError:
        fps = math.nan
    if not 0 < fps <= MAX_FPS:
        raise ValueError(f"fps={value[:40]!r} is invalid: expected a number of frames per second "
                         f"above 0 and at most {MAX_FPS:g}")
    return 1.0 / fps


class StreamHandler:
    def __init__(self, store: FrameStore, config: Config, nosignal: bytes, log: logging.Logger):
        self.clients = 0
        self._store = store
        self._config = config
        self._nosignal = nosignal
        self._log = log
        self._at_limit_logged = False
        self._part = PerFrame(lambda frame: multipart.part(frame.data, frame.timestamp))

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method not in GET_OR_HEAD:
            return method_not_allowed(environ, start_response)
        try:
            interval = min_interval(environ.get("QUERY_STRING", ""))
        except ValueError as error:
            return text(environ, start_response, "400 BAD REQUEST", str(error))
        if method == "HEAD":
            start_response("200 OK", list(HEADERS))
            return []
        limit = self._config.stream_max_clients
        if self.clients >= limit:
            if not self._at_limit_logged:
                self._log.warning("stream clients at the limit of %d (STREAM_MAX_CLIENTS): refusing new ones", limit)
                self._at_limit_logged = True
            return unavailable(environ, start_response, f"too many stream clients (at most {limit})", retry_after=5)
        start_response("200 OK", list(HEADERS))
        deadline = SendDeadline(self._config.stream_idle_timeout)
        sock = environ.get("gunicorn.socket")  # absent outside gunicorn, e.g. in Flask's test client
        hangup = HangupWatch(sock) if sock is not None else None
        self.clients += 1
        return _Stream(self._parts(interval, deadline, hangup), deadline, hangup, environ.get("REMOTE_ADDR", "?"),
                       self._ended)

    def _ended(self, stream: "_Stream") -> None:
        self.clients -= 1
        if self.clients < self._config.stream_max_clients:
            self._at_limit_logged = False
        if stream.deadline.expired:
            self._log.info("stream client %s dropped: it accepted no data for %g s",
                           stream.peer, self._config.stream_idle_timeout)

    def _parts(self, interval: float, deadline: SendDeadline, hangup: Optional[HangupWatch]):
        """The stream's body: each item one part, every write guarded by `deadline`."""
        store = self._store
        keepalive = self._config.stream_keepalive
        max_age = self._config.snapshot_max_age
        repaint = min(REPAINT, keepalive)
        if hangup is not None:
            hangup.start(gevent.getcurrent())
        with deadline:
            yield multipart.OPENING
        sent = 0  # the newest frame seen, sent or not
        shown = None  # what the last part showed: a frame's seq, or NO_SIGNAL
        wait = 0.0  # the first part goes out at once
        while True:
            frame = store.wait_newer(sent, wait) or store.latest
            if frame is not None:
                sent = frame.seq
            if frame is None or store.age(frame) > max_age:
                showing, part = NO_SIGNAL, multipart.part(self._nosignal, time.time())
            else:
                showing, part = frame.seq, self._part(frame)
            wait = repaint if showing != shown else keepalive
            shown = showing
            started = time.monotonic()
            with deadline:
                yield part
            if interval:
                rest = started + interval - time.monotonic()
                if rest > 0:
                    gevent.sleep(rest)


class _Stream:
    """One client's response body; the server closes it exactly once, however the stream ends."""

    def __init__(self, parts, deadline: SendDeadline, hangup: Optional[HangupWatch], peer: str, on_close):
        self.deadline = deadline
        self.peer = peer
        self._parts = parts
        self._hangup = hangup
        self._on_close = on_close

    def __iter__(self):
        return self._parts

    def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            if self._hangup is not None:
                self._hangup.close()
            self._parts.close()
            self.deadline.close()
            on_close(self)
